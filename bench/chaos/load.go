package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/bench/internal/rig"
)

// load is the steady stream of events the chaos run sends through the
// ingest API. Every event carries its own event_id, also as chaos_id in its
// properties, which the journey hands on as payload_params, so the
// receiver can tell which events arrived. A request that fails is sent
// again, unchanged, until Herald accepts it: event_id makes the repeat
// harmless, as it would for a careful real client.
type load struct {
	api    *rig.API
	key    string
	events []string // one event name per journey
	// apiHooks take every other request through the deliveries API, one
	// item per call to each in turn: with batch_size 1 and no batch wait,
	// most items are written while a worker holds their webhook, so they
	// rely on that worker rather than on a flush task of their own. Their
	// receiver knows them by delivery id.
	apiHooks []int64
	next     atomic.Int64
	requests atomic.Int64 // requests started, to take turns

	mu       sync.Mutex
	accepted []string
	refusals map[string]int // why requests were refused: status or error
}

const perRequest = 10

// run sends perRequest events at a time, rate events a second, until ctx
// ends; a batch refused when ctx ends is still retried until retryCtx
// ends, so that what the run counts as accepted is settled.
func (l *load) run(ctx, retryCtx context.Context, rate int) {
	t := time.NewTicker(time.Second * perRequest / time.Duration(rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if len(l.apiHooks) > 0 && l.requests.Add(1)%2 == 0 {
			l.deliver(retryCtx)
			continue
		}
		l.send(retryCtx, l.batch())
	}
}

// deliver sends perRequest items through the deliveries API, one per
// request, each to the next API webhook; a refused request is sent again.
// (Unlike ingest, a request whose answer was lost cannot be told from a
// new one: its items, if written, arrive as extra ones, never counted as
// accepted.)
func (l *load) deliver(ctx context.Context) {
	for range perRequest {
		n := l.next.Add(1)
		hook := l.apiHooks[n%int64(len(l.apiHooks))]
		item := map[string]any{"event": "open", "sent_ns": time.Now().UnixNano(), "n": n}
		l.retry(ctx, func() error {
			ids, err := l.api.DeliverItems(hook, []map[string]any{item})
			if err == nil {
				l.mu.Lock()
				l.accepted = append(l.accepted, ids...)
				l.mu.Unlock()
			}
			return err
		})
	}
}

func (l *load) batch() []rig.Event {
	now := time.Now().UnixNano()
	evs := make([]rig.Event, perRequest)
	for i := range evs {
		n := l.next.Add(1)
		id := fmt.Sprintf("chaos-%d", n)
		evs[i] = rig.Event{Event: l.events[n%int64(len(l.events))], EventID: id,
			Properties: map[string]any{"chaos_id": id, "sent_ns": now},
			User:       map[string]any{"email": fmt.Sprintf("user%d@chaos.example", n%1000)}}
	}
	return evs
}

func (l *load) send(ctx context.Context, evs []rig.Event) {
	l.retry(ctx, func() error {
		err := l.api.Ingest(l.key, evs)
		if err == nil {
			l.mu.Lock()
			for _, ev := range evs {
				l.accepted = append(l.accepted, ev.EventID)
			}
			l.mu.Unlock()
		}
		return err
	})
}

// retry calls do until it succeeds or ctx ends, counting why it failed.
func (l *load) retry(ctx context.Context, do func() error) {
	for ctx.Err() == nil {
		err := do()
		if err == nil {
			return
		}
		reason := "connection error"
		if se := (*rig.StatusError)(nil); errors.As(err, &se) {
			reason = fmt.Sprintf("HTTP %d", se.Status)
		}
		l.mu.Lock()
		l.refusals[reason]++
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Accepted returns the ids of the events Herald accepted.
func (l *load) Accepted() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.accepted...)
}
