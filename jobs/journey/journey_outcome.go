package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// HandleOutcome moves on a run waiting at a webhook node whose delivery
// was delivered or failed for good. The deliverer enqueues it once the
// delivery's completion is committed; the sweep (SweepRuns) enqueues it
// again for any run such a task left behind.
func (e *Engine) HandleOutcome(ctx context.Context, t *asynq.Task) error {
	var p queue.OutcomePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("outcome: bad payload: %w: %w", err, asynq.SkipRetry)
	}
	return e.moveOrEnd(ctx, p.RunID, &p.DeliveryID, func() error { return e.AfterDelivery(ctx, p.RunID, p.DeliveryID) })
}

// AfterDelivery moves on a run waiting for this delivery, if it is
// settled: delivered (the node's save rules write the response's fields to
// the contact, and the run takes "delivered"), failed for good or gone
// (the run takes "failed"). A run that waits for something else, a
// delivery still on its way, or a journey that is not live is left as it
// is; the sweep looks again once the journey is live.
func (e *Engine) AfterDelivery(ctx context.Context, runID, deliveryID uuid.UUID) error {
	return e.inTx(ctx, func(q models.Querier, fx *effects) error {
		r, c, err := e.Store.RunForTimer(ctx, q, runID)
		if errors.Is(err, models.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.AwaitsDelivery == nil || *r.AwaitsDelivery != deliveryID {
			return nil // moved on meanwhile
		}
		j, err := e.Store.JourneyForRun(ctx, q, r.JourneyID)
		if err != nil || j.Status != models.JourneyLive {
			return err // held while the journey is paused
		}
		o, err := e.Store.DeliveryOutcomeOf(ctx, q, r.PanelID, deliveryID)
		if err != nil || !o.Final() {
			return err // still on its way (a replay, or a webhook back in service)
		}
		lj, err := parseJourney(j)
		if err != nil {
			return err
		}
		w := &work{e: e, q: q, panel: &models.Panel{ID: r.PanelID}, fx: fx}
		if err := w.loadAssets(ctx, []*liveJourney{lj}); err != nil {
			return err
		}
		out := Outcome{Delivered: o.Status == models.DeliveryDelivered}
		if o.Response != nil {
			out.Response = []byte(*o.Response)
		}
		st := runState(r)
		step := lj.def.AfterDelivery(st, r.Node, out, toJourneyContact(c), w.env(lj))
		if step.SaveNote != "" {
			e.Log.InfoContext(ctx, "webhook response: fields not saved", "run_id", r.ID, "node", r.Node,
				"delivery_id", models.DeliveryID(deliveryID), "why", step.SaveNote)
		}
		if len(step.Saved) > 0 {
			if err := w.saveAttributes(ctx, c, step.Saved); err != nil {
				return err
			}
		}
		w.apply(r, lj, st, step)
		return w.save(ctx)
	})
}

// saveAttributes writes attributes a response gave to the contact (locked
// by the caller) and starts the segment-triggered journeys it comes to
// enter by the change, as any other change of a contact does.
func (w *work) saveAttributes(ctx context.Context, c *models.Contact, attrs map[string]any) error {
	id := models.Identity{}
	for _, p := range []struct {
		dst *string
		src *string
	}{{&id.ExternalID, c.ExternalID}, {&id.Email, c.Email}, {&id.Phone, c.Phone}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	changes, err := w.e.Store.UpsertContacts(ctx, w.q, w.panel.ID, []models.Identity{id}, []map[string]any{attrs})
	if err != nil {
		return err
	}
	live, entries, err := w.prepare(ctx, []int64{c.ID}, nil)
	if err != nil {
		return err
	}
	return w.segmentEntries(ctx, live, changes, entries)
}

// sweepOutcomes enqueues the moves of runs whose delivery settled more
// than grace ago but that still wait: their task was lost with Redis, or
// their journey was paused. Each pass looks through the next slice of the
// awaiting runs (awaitsPerPass), so its cost does not grow with them; a
// run is found within a round of passes.
func (e *Engine) sweepOutcomes(ctx context.Context, grace time.Duration) error {
	e.awaits.Lock()
	defer e.awaits.Unlock()
	settled, next, err := e.Store.SettledAwaits(ctx, grace, e.awaits.from, awaitsPerPass, 1000)
	if err != nil {
		return err
	}
	e.awaits.from = next
	return e.enqueueOutcomes(ctx, settled)
}

// awaitsPerPass is how many awaiting runs one pass of the sweep (every
// 5 s) looks through: about 20 ms of PostgreSQL's time, read in the order
// of an index (a slice several times larger was planned as a read of every
// awaiting run and a sort). A lost move is found within a round: about
// four minutes with 100,000 runs waiting.
const awaitsPerPass = 2_000

// enqueueOutcomes enqueues the moves of runs whose delivery settled.
func (e *Engine) enqueueOutcomes(ctx context.Context, settled []models.AwaitedDelivery) error {
	for _, a := range settled {
		if err := e.Enqueuer.Outcome(ctx, a.RunID, a.DeliveryID); err != nil {
			return err
		}
	}
	if len(settled) > 0 {
		e.Log.InfoContext(ctx, "enqueued moves of runs whose delivery settled", "runs", len(settled))
	}
	return nil
}
