package models

import (
	"sync/atomic"
	"time"
)

// Clock is Herald's one time source: the store, and through it the
// deliverer, the journey engine, the failure tracker and the handlers,
// read the time from it. The zero Clock is the wall clock in UTC.
//
// Tests move a Clock forward instead of sleeping. The move is an offset
// kept in an atomic, so a test may move the clock while workers read it
// (a plain func field swapped under a running worker was a data race).
// Only forward: tasks already queued wait until their store time, so a
// clock moved back would make them wait that much longer.
type Clock struct {
	offset atomic.Int64 // nanoseconds added to the wall clock
}

// Now is the wall clock in UTC plus the offset.
func (c *Clock) Now() time.Time {
	return time.Now().UTC().Add(time.Duration(c.offset.Load()))
}

// Advance moves the clock forward by d (backward when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.offset.Add(int64(d))
}

// Set moves the clock so that Now reads t; it keeps ticking from there.
func (c *Clock) Set(t time.Time) {
	c.offset.Store(int64(time.Until(t)))
}
