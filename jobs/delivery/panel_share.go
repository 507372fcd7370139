package delivery

import "sync"

// panelShare divides a worker's task slots among panels. A flush holds its
// slot for as long as its request takes, so a panel whose endpoints all
// hang until the HTTP timeout would otherwise take every slot and delay
// every other panel's deliveries by that long.
//
// A panel may take another slot while it holds fewer than its fair share:
// the worker's slots divided by the panels holding slots plus one, and
// never more than max. The "plus one" keeps a reserve for a panel that has
// none yet: alone, a panel gets half the worker; with two busy panels each
// gets a third, and so on, so any number of hanging panels still leave
// slots free for the others. Slots already held are not taken back; as
// their requests end, each panel falls back to the new share.
//
// The count is per worker process, like the slots it shares: nothing is
// kept in Redis, so a worker that dies leaves no count behind.
type panelShare struct {
	slots int // the worker's task slots
	max   int // slots one panel may hold at most; 0 or less, or all slots: no sharing at all
	mu    sync.Mutex
	used  map[int64]int
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

// fairShare is how many slots a panel may hold while busy panels (itself
// included) hold slots of a worker with slots in all: a pure function, so
// the rule can be read and tested apart from the locking.
func fairShare(slots, busy, max int) int {
	return min(max, slots/(busy+1))
}

// acquire takes one of the panel's slots; false when it holds its share.
// A panel holding none may always take one, so nobody waits forever.
func (s *panelShare) acquire(panelID int64) bool {
	if s.off() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.used[panelID]
	busy := len(s.used)
	if held == 0 {
		busy++
	}
	if held > 0 && held >= fairShare(s.slots, busy, s.max) {
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
	if s.off() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[panelID]--; s.used[panelID] <= 0 {
		delete(s.used, panelID)
	}
}

// off reports a worker that does not share: one panel may take every slot.
func (s *panelShare) off() bool { return s == nil || s.max <= 0 || s.max >= s.slots }
