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

// HandleTimer ends a run's wait when its time is up.
func (e *Engine) HandleTimer(ctx context.Context, t *asynq.Task) error {
	var p queue.TimerPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("timer: bad payload: %w: %w", err, asynq.SkipRetry)
	}
	// asynq schedules in whole seconds: wait out the rest of this one.
	if early := time.Until(time.UnixMilli(p.At)); early > 0 && !sleep(ctx, early) {
		return ctx.Err()
	}
	return e.Resume(ctx, p.RunID, p.Node)
}

// Resume moves on a run waiting at node, if it is due: its wait ran out,
// or its awaited event came while the journey was paused and the journey
// is live again. A run that moved on meanwhile, or a journey that is not
// live, is left as it is.
func (e *Engine) Resume(ctx context.Context, runID uuid.UUID, node string) error {
	var fx *effects
	err := e.Store.InTx(ctx, func(q models.Querier) error {
		fx = newEffects(e.Store.Now())
		r, c, err := e.Store.RunForTimer(ctx, q, runID)
		if errors.Is(err, models.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.Node != node {
			return nil // waiting elsewhere now, with a timer of its own
		}
		j, err := e.Store.JourneyForRun(ctx, q, r.JourneyID)
		if err != nil || j.Status != models.JourneyLive {
			return err // held while the journey is paused
		}
		lj, err := parseJourney(j)
		if err != nil {
			return err
		}
		panel := &models.Panel{ID: r.PanelID}
		w := &work{e: e, q: q, panel: panel, fx: fx}
		if err := w.loadAssets(ctx, []*liveJourney{lj}); err != nil {
			return err
		}
		st := runState(r)
		var step Step
		switch {
		case r.Happened:
			step = lj.def.Resume(st, r.Node, st.Last, toJourneyContact(c), w.env(lj))
		case r.WaitUntil != nil && !fx.now.Before(*r.WaitUntil):
			step = lj.def.Resume(st, r.Node, nil, toJourneyContact(c), w.env(lj))
		default:
			return nil // not due: a timer of an earlier wait
		}
		w.apply(r, lj, st, step)
		return w.save(ctx)
	})
	if err != nil {
		return err
	}
	e.after(ctx, fx)
	return nil
}

// SweepRuns fires the timers Redis lost: waiting runs of live journeys due
// for longer than grace, and runs whose event came while their journey
// was paused; and moves on the runs waiting for a delivery that settled
// (sweepOutcomes).
func (e *Engine) SweepRuns(ctx context.Context, grace time.Duration) error {
	if err := e.sweepOutcomes(ctx, grace); err != nil {
		return err
	}
	due, err := e.Store.DueRuns(ctx, grace, 1000)
	if err != nil {
		return err
	}
	now := e.Store.Now()
	for _, r := range due {
		at := r.WaitUntil
		if at.After(now) {
			at = now // happened while paused: now, under an id of its own
		}
		if err := e.Enqueuer.Timer(ctx, r.ID, r.Node, at); err != nil {
			return err
		}
	}
	if len(due) > 0 {
		e.Log.InfoContext(ctx, "enqueued due journey timers", "runs", len(due))
	}
	return nil
}
