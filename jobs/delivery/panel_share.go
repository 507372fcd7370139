package delivery

import "sync"

// panelShare divides a worker's task slots among panels. A flush holds its
// slot for as long as its request takes, so a panel whose endpoints all
// hang until the HTTP timeout would otherwise take every slot and delay
// every other panel's deliveries by that long. Capping the slots one
// panel's flushes hold at once leaves the rest for the others.
//
// The cap is per worker process, like the slots it shares: nothing is kept
// in Redis, so a worker that dies leaves no count behind.
type panelShare struct {
	max  int // slots one panel may hold; 0 or less: no cap
	mu   sync.Mutex
	used map[int64]int
}

// panelShareOf is the default cap for a worker of concurrency slots: half
// of them (at least one), so one panel can never take more than half a
// worker, and a single busy panel still gets most of it.
func panelShareOf(concurrency, configured int) int {
	if configured != 0 {
		return configured
	}
	return max(1, concurrency/2)
}

// acquire takes one of the panel's slots; false when it holds all it may.
func (s *panelShare) acquire(panelID int64) bool {
	if s == nil || s.max <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[panelID] >= s.max {
		return false
	}
	if s.used == nil {
		s.used = map[int64]int{}
	}
	s.used[panelID]++
	return true
}

// release gives back a slot taken by acquire.
func (s *panelShare) release(panelID int64) {
	if s == nil || s.max <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[panelID]--; s.used[panelID] <= 0 {
		delete(s.used, panelID)
	}
}
