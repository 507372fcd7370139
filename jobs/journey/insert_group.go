package journey

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// insertGroup writes the events of concurrent ingest requests together:
// one INSERT and one commit for all the requests that arrived while the
// previous statements ran. A lone request is written at once, so it waits
// for nothing; under load, a request of one event no longer costs a
// transaction of its own. Each request still returns only once its events
// are committed, and fails only for its own events: when a value of one
// request makes PostgreSQL refuse the statement (models.DataError), the
// group's requests are written one by one.
//
// At most maxInFlight statements run at a time; the requests that arrive
// meanwhile queue up and form the next group. No goroutine outlives its
// group: the request that starts a group runs it, and hands what queued
// meanwhile to a goroutine that runs groups until the queue is empty.
type insertGroup struct {
	mu      sync.Mutex
	queue   []*insertReq
	running int
}

type insertReq struct {
	events []models.Event
	fresh  []bool
	err    error
	done   chan struct{}
}

const (
	// maxInFlight bounds the insert statements of one process. One at a
	// time groups best: with four, 16 clients of one event each formed
	// groups of two (0.53 transactions per event); with one, 0.23, and
	// single-event delivered 11 % more with less CPU in both processes.
	maxInFlight = 1
	// maxGroupEvents bounds one statement (a request may bring up to
	// 1000 events alone; it then goes by itself).
	maxGroupEvents = 1000
	// insertTimeout bounds a group's statement: it serves several
	// requests, so no one request's context may cancel it.
	insertTimeout = 30 * time.Second
)

// insert stores events through store as InsertEvents does, together with
// the events of concurrent calls.
func (g *insertGroup) insert(ctx context.Context, store *models.Store, events []models.Event) ([]bool, error) {
	req := &insertReq{events: events, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, req)
	lead := g.running < maxInFlight
	if lead {
		g.running++
	}
	g.mu.Unlock()
	if lead {
		g.runOne(store)
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.mu.Unlock()
			go g.runAll(store) // takes over this slot
		} else {
			g.running--
			g.mu.Unlock()
		}
	}
	select {
	case <-req.done:
		return req.fresh, req.err
	case <-ctx.Done():
		// The events may still be stored; the caller answers an error
		// and a retry with the same event_ids is harmless.
		return nil, ctx.Err()
	}
}

// runAll runs groups until the queue is empty, then gives up its slot.
func (g *insertGroup) runAll(store *models.Store) {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running--
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.runOne(store)
	}
}

// runOne takes the oldest queued requests, up to maxGroupEvents events (at
// least one request), and stores their events in one statement.
func (g *insertGroup) runOne(store *models.Store) {
	g.mu.Lock()
	n, size := 0, 0
	for n < len(g.queue) && (n == 0 || size+len(g.queue[n].events) <= maxGroupEvents) {
		size += len(g.queue[n].events)
		n++
	}
	group := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	if n == 0 {
		return
	}
	all := make([]models.Event, 0, size)
	for _, r := range group {
		all = append(all, r.events...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
	fresh, err := store.InsertEvents(ctx, all)
	cancel()
	if _, bad := models.DataError(err); bad && len(group) > 1 {
		// A value of one request fails the whole statement (and stores
		// nothing): each request is tried on its own, so that only the
		// one it belongs to fails, and no request fails another.
		for _, r := range group {
			ctx, cancel := context.WithTimeout(context.Background(), insertTimeout)
			r.fresh, r.err = store.InsertEvents(ctx, r.events)
			cancel()
			close(r.done)
		}
		return
	}
	for _, r := range group {
		if err == nil {
			r.fresh, fresh = fresh[:len(r.events)], fresh[len(r.events):]
		}
		r.err = err
		close(r.done)
	}
}
