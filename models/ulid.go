package models

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/oklog/ulid/v2"
)

var (
	ulidMu      sync.Mutex
	ulidEntropy = ulid.Monotonic(rand.Reader, 0)
)

// NewULID returns a ULID; within one process they sort in creation order.
func NewULID(t time.Time) ulid.ULID {
	ulidMu.Lock()
	defer ulidMu.Unlock()
	return ulid.MustNew(ulid.Timestamp(t), ulidEntropy)
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
