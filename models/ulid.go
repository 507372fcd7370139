package models

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/oklog/ulid/v2"
)

// ids remembers the last id made for each recent millisecond, so that ids
// of one millisecond keep their creation order even when ids of other
// milliseconds are made in between: stores with clocks of their own (tests
// that move time) share this process, and ulid.Monotonic starts afresh, at
// random, whenever the millisecond differs from the previous call's.
var ids = struct {
	sync.Mutex
	last map[uint64]issued
}{last: map[uint64]issued{}}

// issued is the last id of a millisecond and when (on the wall clock,
// whatever clock asked for it) it was made.
type issued struct {
	id ulid.ULID
	at time.Time
}

// Memory is bounded by forgetting, now and then, milliseconds whose last id
// was made over forgetAfter ago: ids of one millisecond are asked for
// within microseconds of each other, whichever clock names it.
const (
	forgetAfter = 2 * time.Second
	sweepAt     = 8192
)

// NewULID returns a ULID; within one process, ids of the same millisecond
// sort in creation order, and ids of different milliseconds by time.
func NewULID(t time.Time) ulid.ULID {
	ms := ulid.Timestamp(t)
	now := time.Now()
	ids.Lock()
	defer ids.Unlock()
	if prev, ok := ids.last[ms]; ok {
		if next, ok := increment(prev.id); ok {
			ids.last[ms] = issued{next, now}
			return next
		}
	}
	id := ulid.MustNew(ms, rand.Reader)
	if len(ids.last) >= sweepAt {
		for k, v := range ids.last {
			if now.Sub(v.at) > forgetAfter {
				delete(ids.last, k)
			}
		}
	}
	ids.last[ms] = issued{id, now}
	return id
}

// increment adds one to a ULID's 80 random bits; false when they are all
// ones (one chance in 2^80 per millisecond).
func increment(id ulid.ULID) (ulid.ULID, bool) {
	for i := len(id) - 1; i >= 6; i-- {
		if id[i]++; id[i] != 0 {
			return id, true
		}
	}
	return id, false
}

// NewID returns a time-ordered id for a uuid column.
func NewID(t time.Time) uuid.UUID { return uuid.UUID(NewULID(t)) }

// minIDAt is the smallest id a row created at t can have, so "created after
// t" is a range scan on the primary key.
func minIDAt(t time.Time) uuid.UUID {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t))
	return uuid.UUID(u)
}

// ULIDString writes an id of a uuid column in ULID text.
func ULIDString(id uuid.UUID) string { return ulid.ULID(id).String() }
