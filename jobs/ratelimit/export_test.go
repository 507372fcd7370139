package ratelimit

// Keys is how many budgets s keeps state for.
func (s *Shares) Keys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// Undecayed exposes undecayed to the external tests.
var Undecayed = undecayed
