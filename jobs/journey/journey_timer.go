package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Timers live in PostgreSQL: a waiting run's deadline is its wait_until.
// Redis holds one task per second that has deadlines, and only for the
// seconds within TimerHorizon: the engine asks for that task when a wait
// it starts ends that soon, and the feeder (FeedTimers, on the scheduler
// leader) asks for every second of the horizon that has deadlines. So
// Redis holds at most one task per second of the horizon, however many
// runs wait; a task lost with Redis is asked for again by the next feed,
// or by the sweep once it is overdue.

// TimerHorizon is how far ahead timers go to Redis.
const TimerHorizon = time.Minute

// dueSoon says whether a wait ending at until goes to Redis now, rather
// than being left in PostgreSQL for the feeder.
func dueSoon(until, now time.Time) bool {
	return until.Sub(now) <= TimerHorizon
}

const (
	// timerBatch is how many runs one transaction of a timers task moves.
	timerBatch = 500
	// timerShards is how many such transactions run at once: 100,000
	// waits ending in the same second are moved in parallel, each
	// transaction taking the runs of its own contacts.
	timerShards = 4
	// timerPoll bounds a timers task's sleep before it looks again for
	// waits that came due, such as those started after it began.
	timerPoll = 200 * time.Millisecond
)

// HandleTimers ends the waits that run out within a second: from the
// second's start until its end, it moves each run as its deadline passes,
// a fair share of each panel's a batch (DueTimers), so one panel's crowded
// second is not another's wait.
// Moving is idempotent: a run is locked and moved only if it still waits
// and is due, so a task run twice, or with the sweep's, moves no run twice.
func (e *Engine) HandleTimers(ctx context.Context, t *asynq.Task) error {
	var p queue.TimersPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("timers: bad payload: %w: %w", err, asynq.SkipRetry)
	}
	from, to := time.UnixMilli(p.From), time.UnixMilli(p.To)
	cursors := models.TimerCursors{}
	looked := false
	// busy are due runs whose contacts another transaction held when their
	// batch moved: they move after the rest of the second (awaitBusy), so
	// one panel's long transaction on its own contacts holds up no other
	// panel's runs.
	var busy []models.DueTimer
	for {
		now := e.Store.Now()
		due, err := e.Store.DueTimers(ctx, from, to, now, cursors, timerBatch*timerShards)
		if err != nil {
			return err
		}
		if len(due) > 0 {
			skipped, err := e.moveDue(ctx, due)
			if err != nil {
				return err
			}
			busy = append(busy, skipped...)
			cursors.Advance(due)
			continue // more may be due: a batch reads a share of each journey
		}
		if !now.Before(to) {
			switch {
			case !looked && len(cursors) > 0:
				// A last look from the start: a run may have come due
				// behind its journey's cursor (a late commit, a journey
				// paused and published again between a batch's read and
				// its move), and the runs whose contacts were busy are
				// read again.
				looked = true
			case len(busy) == 0:
				return nil // every deadline of the second has passed, and none is left
			default:
				// Every other run of the second has moved: those whose
				// contacts were busy move as their contacts come free,
				// and then the task looks from the start once more (runs
				// may have come due meanwhile).
				if err := e.awaitBusy(ctx, busy); err != nil {
					return err
				}
			}
			cursors, busy = models.TimerCursors{}, nil
			continue
		}
		wake := to
		next, err := e.Store.NextTimer(ctx, now, to)
		if err != nil {
			return err
		}
		if next != nil {
			wake = *next
		}
		if !sleep(ctx, min(wake.Sub(now), timerPoll)) {
			return ctx.Err()
		}
	}
}

// moveDue moves due runs in up to timerShards transactions at once, each
// taking the runs of its own contacts, so they never wait on each other.
// A shard that fails does not stop the others: they are other contacts'
// runs, often other panels'. No transaction waits for a contact another
// holds: the runs of such busy contacts are returned, not moved.
func (e *Engine) moveDue(ctx context.Context, due []models.DueTimer) ([]models.DueTimer, error) {
	shards := make([][]models.DueTimer, timerShards)
	for _, d := range due {
		i := d.ContactID % timerShards
		shards[i] = append(shards[i], d)
	}
	var g errgroup.Group
	var mu sync.Mutex
	var busy []models.DueTimer
	for _, shard := range shards {
		if len(shard) > 0 {
			g.Go(func() error {
				skipped, err := e.fireShard(ctx, shard)
				mu.Lock()
				busy = append(busy, skipped...)
				mu.Unlock()
				return err
			})
		}
	}
	err := g.Wait()
	return busy, err
}

// awaitBusy moves the runs whose contacts were busy, trying again every
// timerPoll until each contact came free. It never waits for a contact
// while holding another: a contact busy for a moment with its own panel's
// work does not wait behind another panel's long transaction, as it would
// in one transaction with that panel's contact.
func (e *Engine) awaitBusy(ctx context.Context, busy []models.DueTimer) error {
	for len(busy) > 0 {
		if e.busyHook != nil {
			e.busyHook()
		}
		if !sleep(ctx, timerPoll) {
			return ctx.Err()
		}
		var still []models.DueTimer
		for chunk := range slices.Chunk(busy, timerBatch*timerShards) {
			skipped, err := e.moveDue(ctx, chunk)
			if err != nil {
				return err
			}
			still = append(still, skipped...)
		}
		busy = still
	}
	return nil
}

// fireShard moves a shard's runs in one transaction. When PostgreSQL
// refuses what that would write (a value of one run's panel it cannot
// store), it moves each half in a transaction of its own, and so on down
// to the run refused, so the others go on, and ends the run refused twice
// alone (endRefused): left waiting, it would fail its second's task on
// every retry, and with it the other panels' runs due in that second.
func (e *Engine) fireShard(ctx context.Context, shard []models.DueTimer) ([]models.DueTimer, error) {
	if len(shard) == 1 {
		var busy []models.DueTimer
		err := e.moveOrEnd(ctx, shard[0].RunID, nil, func() (err error) {
			busy, err = e.fireTimers(ctx, shard)
			return err
		})
		return busy, err
	}
	busy, err := e.fireTimers(ctx, shard)
	if _, refused := models.RefusedByData(err); !refused {
		return busy, err
	}
	// Find the refused run by halves: a few dozen transactions for a
	// shard of 500, where one per run made a refusal cost a second's task
	// 13 times its time (found by review).
	mid := len(shard) / 2
	first, err1 := e.fireShard(ctx, shard[:mid])
	second, err2 := e.fireShard(ctx, shard[mid:])
	return append(first, second...), errors.Join(err1, err2)
}

// moveOrEnd makes a run's move; when PostgreSQL refuses it, makes it once
// more (a clash with another writer passes), and ends the run when it is
// refused again (endRefused): left waiting, the run would fail its task
// on every retry, and every sweep's after it.
func (e *Engine) moveOrEnd(ctx context.Context, runID uuid.UUID, awaiting *uuid.UUID, move func() error) error {
	err := move()
	if _, refused := models.RefusedByData(err); refused {
		err = move()
	}
	if reason, refused := models.RefusedByData(err); refused {
		return e.endRefused(ctx, runID, awaiting, reason, err)
	}
	return err
}

// endRefused ends a run whose next step PostgreSQL refused twice, with
// the reason on its page (the journey's runs): a run still due, or still
// waiting for the delivery awaiting names. The shared log names the
// refusal by the schema alone: the reason may quote the panel's data.
func (e *Engine) endRefused(ctx context.Context, runID uuid.UUID, awaiting *uuid.UUID, reason string, refused error) error {
	panelID, ended, err := e.Store.EndRefusedRun(ctx, runID, awaiting, "its next step was refused by the database: "+reason)
	if err != nil || !ended {
		return err // moved on meanwhile: nothing to end
	}
	e.Log.ErrorContext(ctx, "journey run ended: PostgreSQL refused its next step",
		append([]any{"panel_id", panelID, "run_id", runID}, models.RefusalLogAttrs(refused)...)...)
	return nil
}

// fireTimers moves, in one transaction, the runs among due that still
// wait and are due; it returns those whose contacts another transaction
// held, not moved.
func (e *Engine) fireTimers(ctx context.Context, due []models.DueTimer) ([]models.DueTimer, error) {
	var busy []models.DueTimer
	err := e.inTx(ctx, func(q models.Querier, fx *effects) error {
		runs, contacts, skipped, err := e.Store.LockTimerRuns(ctx, q, due)
		if err != nil {
			return err
		}
		busy = skipped
		return e.resumeRuns(ctx, q, fx, runs, contacts)
	})
	if err != nil {
		return nil, err
	}
	return busy, nil
}

// resumeRuns moves on the locked runs that are due: their wait ran out,
// or their awaited event came while the journey was paused and it is live
// again. A run of a journey that is not live stays where it is.
func (e *Engine) resumeRuns(ctx context.Context, q models.Querier, fx *effects, runs []models.Run, contacts map[int64]*models.Contact) error {
	journeys := map[int64]*liveJourney{}
	works := map[int64]*work{} // by panel
	for i := range runs {
		r := &runs[i]
		if _, ok := journeys[r.JourneyID]; !ok {
			j, err := e.Store.JourneyForRun(ctx, q, r.JourneyID)
			if err != nil {
				return err
			}
			journeys[r.JourneyID] = nil
			if j.Status == models.JourneyLive && j.PanelID == r.PanelID {
				if journeys[r.JourneyID], err = parseJourney(j); err != nil {
					return err
				}
			}
		}
		if journeys[r.JourneyID] != nil && works[r.PanelID] == nil {
			works[r.PanelID] = &work{e: e, q: q, panel: &models.Panel{ID: r.PanelID}, fx: fx}
		}
	}
	for _, w := range works {
		var live []*liveJourney
		for _, lj := range journeys {
			if lj != nil && lj.row.PanelID == w.panel.ID {
				live = append(live, lj)
			}
		}
		if err := w.loadAssets(ctx, live); err != nil {
			return err
		}
	}
	for i := range runs {
		r := &runs[i]
		lj, c := journeys[r.JourneyID], contacts[r.ContactID]
		if lj == nil || c == nil {
			continue // held while the journey is paused
		}
		w := works[r.PanelID]
		st := runState(r)
		switch {
		case r.Happened:
			w.apply(r, lj, st, lj.def.Resume(st, r.Node, st.Last, toJourneyContact(c), w.env(lj)))
		case r.WaitUntil != nil && !fx.now.Before(*r.WaitUntil):
			w.apply(r, lj, st, lj.def.Resume(st, r.Node, nil, toJourneyContact(c), w.env(lj)))
		}
	}
	saver := &work{e: e, q: q, fx: fx}
	return saver.save(ctx)
}

// FeedTimers asks Redis for the timers tasks of every second within the
// horizon that has deadlines, and says how many it created (the others
// were queued already). The scheduler leader runs it every few seconds,
// so a wait far off costs Redis nothing until its deadline comes near, and
// a task Redis lost is asked for again.
func (e *Engine) FeedTimers(ctx context.Context) (int, error) {
	now := e.Store.Now()
	secs, err := e.Store.TimerSeconds(ctx, now.Truncate(time.Second), now.Add(TimerHorizon))
	if err != nil {
		return 0, err
	}
	created := 0
	for _, sec := range secs {
		ok, err := e.Enqueuer.Timers(ctx, time.Unix(sec, 0))
		if err != nil {
			return created, err
		}
		if ok {
			created++
		}
	}
	return created, nil
}

// HandleTimer moves one run: the sweep's task for a run whose awaited
// event came while its journey was paused, and the per-run task every wait
// had before timers lived in PostgreSQL.
func (e *Engine) HandleTimer(ctx context.Context, t *asynq.Task) error {
	var p queue.TimerPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("timer: bad payload: %w: %w", err, asynq.SkipRetry)
	}
	// asynq schedules in whole seconds: wait out the rest of this one.
	if early := time.UnixMilli(p.At).Sub(e.Store.Now()); early > 0 && !sleep(ctx, early) {
		return ctx.Err()
	}
	// A refused move ends the run: the sweep asked for it again every 5 s
	// (found by review).
	return e.moveOrEnd(ctx, p.RunID, nil, func() error { return e.Resume(ctx, p.RunID, p.Node) })
}

// Resume moves on a run waiting at node, if it is due: its wait ran out,
// or its awaited event came while the journey was paused and the journey
// is live again. A run that moved on meanwhile, or a journey that is not
// live, is left as it is.
func (e *Engine) Resume(ctx context.Context, runID uuid.UUID, node string) error {
	return e.inTx(ctx, func(q models.Querier, fx *effects) error {
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
		return e.resumeRuns(ctx, q, fx, []models.Run{*r}, map[int64]*models.Contact{c.ID: c})
	})
}

// SweepRuns asks again for the timers Redis lost: those of waiting runs
// of live journeys due for longer than grace, and of runs whose event came
// while their journey was paused; and moves on the runs waiting for a
// delivery that settled (sweepOutcomes).
func (e *Engine) SweepRuns(ctx context.Context, grace time.Duration) error {
	if err := e.sweepOutcomes(ctx, grace); err != nil {
		return err
	}
	return e.sweepDue(ctx, grace, 0)
}

// sweepDue asks for the tasks of the due runs of live journeys (of one
// when journeyID is not 0): their seconds' timers tasks, and a task of
// its own for each run whose event came while its journey was paused.
func (e *Engine) sweepDue(ctx context.Context, grace time.Duration, journeyID int64) error {
	due, err := e.Store.DueRuns(ctx, grace, journeyID, 1000)
	if err != nil {
		return err
	}
	seconds := map[int64]bool{}
	for _, r := range due {
		if r.Happened {
			// now, under an id of its own
			if err := e.Enqueuer.Timer(ctx, r.ID, r.Node, e.Store.Now()); err != nil {
				return err
			}
			continue
		}
		sec := r.WaitUntil.Unix()
		if seconds[sec] {
			continue
		}
		seconds[sec] = true
		if _, err := e.Enqueuer.Timers(ctx, r.WaitUntil); err != nil {
			return err
		}
	}
	if len(due) > 0 {
		e.Log.InfoContext(ctx, "enqueued due journey timers", "runs", len(due), "seconds", len(seconds))
	}
	return nil
}
