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
	next   atomic.Int64

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
		l.send(retryCtx, l.batch())
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
	for ctx.Err() == nil {
		err := l.api.Ingest(l.key, evs)
		if err == nil {
			l.mu.Lock()
			for _, ev := range evs {
				l.accepted = append(l.accepted, ev.EventID)
			}
			l.mu.Unlock()
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
