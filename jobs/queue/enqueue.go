package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// Task types.
const (
	// TypeFlush sends a webhook's pending deliveries.
	TypeFlush = "deliver:flush"
	// TypeTimer moves one journey run whose wait ran out: the sweep's
	// task for a run whose awaited event came while its journey was
	// paused, and the task every wait had before timers lived in
	// PostgreSQL (such tasks may still be queued).
	TypeTimer = "journey:timer"
	// TypeTimers ends every wait that runs out within one second.
	TypeTimers = "journey:timers"
	// TypeOutcome moves a journey run waiting at a webhook node on, once
	// its delivery was delivered or failed for good.
	TypeOutcome = "journey:outcome"
	// TypeIngest processes a partition's new events for journeys.
	TypeIngest = "journey:ingest"
	// TypeAlert sends one alert e-mail.
	TypeAlert = "mail:alert"
	// TypeAlertsDue queues a panel's alerts that are due again, when an
	// alert failed to send and waits for its next attempt.
	TypeAlertsDue = "mail:alerts-due"
)

// ingestWindow groups the requests of 100 ms into one processing task, so
// events that come one per request are still processed in batches.
const ingestWindow = 100 * time.Millisecond

// IngestPayload names the partition and the end of the task's window.
type IngestPayload struct {
	PanelID   int64 `json:"panel_id"`
	Part      int16 `json:"part"`
	WindowEnd int64 `json:"window_end_ms"`
}

// Ingest asks for a partition's new events to be processed. Requests of
// one 100 ms window share a task id; the task waits for its window to end.
func (e *Enqueuer) Ingest(ctx context.Context, panelID int64, part int16) error {
	start := e.now().Truncate(ingestWindow)
	end := start.Add(ingestWindow)
	id := fmt.Sprintf("ingest:%d:%d:%d", panelID, part, start.UnixMilli())
	if e.recent.seen(id) {
		return nil
	}
	payload, _ := json.Marshal(IngestPayload{PanelID: panelID, Part: part, WindowEnd: end.UnixMilli()})
	_, err := e.Client.EnqueueContext(ctx, asynq.NewTask(TypeIngest, payload),
		asynq.Queue(e.Namespace+":"+queueJourney), asynq.TaskID(id), asynq.MaxRetry(5), asynq.Timeout(5*time.Minute))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue event processing of panel %d: %w", panelID, err)
	}
	e.recent.add(id, end)
	return nil
}

// recentIDs is a small memory of task ids enqueued for windows that have
// not ended. Enqueueing such an id again would only meet the conflict:
// the task claims after its window ends, so it sees whatever a later
// request of the same window committed.
type recentIDs struct {
	mu sync.Mutex
	m  map[string]time.Time // task id → window end
}

func (r *recentIDs) seen(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[id]
	return ok
}

func (r *recentIDs) add(id string, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]time.Time{}
	}
	if len(r.m) > 1000 {
		now := time.Now()
		for k, until := range r.m {
			if until.Before(now) {
				delete(r.m, k)
			}
		}
	}
	r.m[id] = end
}

// minFlushWindow is the window of an asset with no batch wait: flush tasks
// of the same 10 ms share one task id.
const minFlushWindow = 10 * time.Millisecond

// FlushPayload names the webhook and the end of the window the task flushes.
type FlushPayload struct {
	WebhookID int64 `json:"webhook_id"`
	WindowEnd int64 `json:"window_end_ms"`
}

// Enqueuer puts tasks on the queue. Enqueueing is only ever a hint: the
// work is in PostgreSQL, and the reconciler re-enqueues whatever a lost
// task leaves behind.
type Enqueuer struct {
	Client *asynq.Client
	// recent remembers the task ids of windows this process enqueued, so
	// a busy webhook or partition costs one Redis call per window, not one
	// per request.
	recent recentIDs
	// Inspector deletes timers that became moot; nil leaves them to
	// find their run moved on.
	Inspector *asynq.Inspector
	Namespace string
	// Now is the store's clock (models.Store.Now), so that a test moving
	// it moves every deadline; nil reads the wall clock.
	Now func() time.Time
}

// Flush asks for webhook's pending deliveries to be sent at the end of the
// current batch window. Every event arriving within one window maps to the
// same task id, so a window costs one task however many events it holds.
// The task claims only once its window has ended (HandleFlush waits out
// asynq's whole-second scheduling), so an event arriving while it runs maps
// to the next window's id and never collides with it.
func (e *Enqueuer) Flush(ctx context.Context, webhookID int64, batchWait time.Duration) error {
	return e.flushAt(ctx, webhookID, batchWait, e.now())
}

// FlushAt asks for a flush no earlier than at (a retry coming due).
func (e *Enqueuer) FlushAt(ctx context.Context, webhookID int64, at time.Time) error {
	return e.flushAt(ctx, webhookID, 0, at)
}

func (e *Enqueuer) flushAt(ctx context.Context, webhookID int64, batchWait time.Duration, at time.Time) error {
	window := max(batchWait, minFlushWindow)
	start := at.Truncate(window)
	end := start.Add(window)
	// The id names the window by its start and its length: a retry's
	// FlushAt (10 ms) and a batch wait's window that start together are
	// different windows, and the shorter one's task may have run before
	// the longer one's rows were written.
	id := fmt.Sprintf("flush:%d:%d:%d", webhookID, start.UnixMilli(), window.Milliseconds())
	if e.recent.seen(id) {
		return nil
	}
	payload, _ := json.Marshal(FlushPayload{WebhookID: webhookID, WindowEnd: end.UnixMilli()})
	opts := []asynq.Option{
		asynq.Queue(e.Namespace + ":" + queueDeliver),
		asynq.TaskID(id),
		asynq.MaxRetry(5), // beyond that the reconciler takes over
		asynq.Timeout(5 * time.Minute),
	}
	if batchWait > 0 {
		opts = append(opts, e.processAt(end))
	} else {
		opts = append(opts, e.processAt(at))
	}
	_, err := e.Client.EnqueueContext(ctx, asynq.NewTask(TypeFlush, payload), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue flush of webhook %d: %w", webhookID, err)
	}
	e.recent.add(id, end)
	return nil
}

func (e *Enqueuer) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// processAt schedules a task for at, a time on the store's clock. asynq
// schedules on the wall clock, so the task is given the delay instead:
// under a clock that a test moved forward the two differ.
func (e *Enqueuer) processAt(at time.Time) asynq.Option {
	return asynq.ProcessIn(at.Sub(e.now()))
}

// TimerPayload names the run and the wait the timer ends.
type TimerPayload struct {
	RunID uuid.UUID `json:"run_id"`
	Node  string    `json:"node"`
	At    int64     `json:"at_ms"`
}

func timerID(runID uuid.UUID, node string, at time.Time) string {
	return fmt.Sprintf("timer:%s:%s:%d", runID, node, at.UnixMilli())
}

// Timer schedules a run's wait at node to end at at. The task id names
// the run, node and time, so enqueueing the same timer twice (the sweep
// after a lost task) is harmless.
func (e *Enqueuer) Timer(ctx context.Context, runID uuid.UUID, node string, at time.Time) error {
	_, err := e.enqueueOnce(ctx, timerTask(runID, node, at), e.Namespace+":"+queueJourney, timerID(runID, node, at),
		e.processAt(at), asynq.MaxRetry(10), asynq.Timeout(time.Minute))
	if err != nil {
		return fmt.Errorf("enqueue timer of run %s: %w", runID, err)
	}
	return nil
}

// TimersPayload names the second whose waits a TypeTimers task ends:
// the deadlines in [From, To), Unix milliseconds.
type TimersPayload struct {
	From int64 `json:"from_ms"`
	To   int64 `json:"to_ms"`
}

// Timers asks for the waits that run out within the whole second holding
// at to be ended. The task id names the second, so however many runs wait
// until that second, and however often the feeder or the sweep asks, one
// task at a time ends them; it reports whether this call created it.
func (e *Enqueuer) Timers(ctx context.Context, at time.Time) (created bool, err error) {
	from := at.Truncate(time.Second)
	payload, _ := json.Marshal(TimersPayload{From: from.UnixMilli(), To: from.Add(time.Second).UnixMilli()})
	created, err = e.enqueueOnce(ctx, asynq.NewTask(TypeTimers, payload), e.Namespace+":"+queueJourney, timersID(from),
		e.processAt(from), asynq.MaxRetry(10), asynq.Timeout(5*time.Minute))
	if err != nil {
		return false, fmt.Errorf("enqueue journey timers of %v: %w", from, err)
	}
	return created, nil
}

// TimersSoon is Timers for the engine, which asks for a second each time a
// run starts a wait ending in it: a second this process already asked for
// is not asked of Redis again until it is over.
func (e *Enqueuer) TimersSoon(ctx context.Context, at time.Time) error {
	from := at.Truncate(time.Second)
	id := timersID(from)
	if e.recent.seen(id) {
		return nil
	}
	if _, err := e.Timers(ctx, from); err != nil {
		return err
	}
	e.recent.add(id, from.Add(time.Second))
	return nil
}

func timersID(second time.Time) string {
	return fmt.Sprintf("timers:%d", second.Unix())
}

// enqueueOnce enqueues a task under an id that names its work, for the
// sweeps that enqueue the same work again when PostgreSQL says it is still
// to do. A live task of that id (waiting, running, retrying) is left
// alone. An archived one ran out of retries (say PostgreSQL or the mail
// server was down for hours) and would otherwise block the id for good:
// it is deleted and the task enqueued afresh. created says whether this
// call put the task on the queue.
func (e *Enqueuer) enqueueOnce(ctx context.Context, task *asynq.Task, queue, id string, opts ...asynq.Option) (created bool, err error) {
	opts = append(opts, asynq.Queue(queue), asynq.TaskID(id))
	_, err = e.Client.EnqueueContext(ctx, task, opts...)
	if err == nil || !errors.Is(err, asynq.ErrTaskIDConflict) || e.Inspector == nil {
		return err == nil, err
	}
	info, err := e.Inspector.GetTaskInfo(queue, id)
	if err != nil || info.State != asynq.TaskStateArchived {
		return false, nil // live, or gone in the meantime: the next sweep looks again
	}
	if err := e.Inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return false, err
	}
	_, err = e.Client.EnqueueContext(ctx, task, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil // another replica's sweep revived it first
	}
	return err == nil, err
}

// timerTask is the task that ends a wait at at. Its handler sleeps until
// the payload's At: rounded down to the millisecond, it would wake before
// the wait (kept in microseconds) is over and find the run not due yet,
// so At is rounded up.
func timerTask(runID uuid.UUID, node string, at time.Time) *asynq.Task {
	payload, _ := json.Marshal(TimerPayload{RunID: runID, Node: node, At: at.Add(time.Millisecond - time.Nanosecond).UnixMilli()})
	return asynq.NewTask(TypeTimer, payload)
}

// OutcomePayload names the run and the delivery it waits for.
type OutcomePayload struct {
	RunID      uuid.UUID `json:"run_id"`
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// Outcome asks for a run waiting at a webhook node to move on: its
// delivery was delivered or failed for good. The task id names the run
// and the delivery, so the sweep enqueueing it again is harmless.
func (e *Enqueuer) Outcome(ctx context.Context, runID, deliveryID uuid.UUID) error {
	payload, _ := json.Marshal(OutcomePayload{RunID: runID, DeliveryID: deliveryID})
	_, err := e.enqueueOnce(ctx, asynq.NewTask(TypeOutcome, payload), e.Namespace+":"+queueJourney,
		fmt.Sprintf("outcome:%s:%s", runID, deliveryID), asynq.MaxRetry(10), asynq.Timeout(time.Minute))
	if err != nil {
		return fmt.Errorf("enqueue outcome of run %s: %w", runID, err)
	}
	return nil
}

// AlertsDue asks for a panel's alerts to be queued at at, when an alert
// of it is due again. One task per panel and 5 seconds: failures close
// together wake the panel once.
func (e *Enqueuer) AlertsDue(ctx context.Context, panelID int64, at time.Time) error {
	// At least a second after at: a wake-up on a clock a little behind
	// the one that set at would find nothing due.
	at = at.Add(time.Second).Truncate(5 * time.Second).Add(5 * time.Second)
	_, err := e.enqueueOnce(ctx, asynq.NewTask(TypeAlertsDue, []byte(strconv.FormatInt(panelID, 10))),
		e.Namespace+":"+queueMail, fmt.Sprintf("alerts-due:%d:%d", panelID, at.Unix()),
		e.processAt(at), asynq.MaxRetry(10), asynq.Timeout(time.Minute))
	if err != nil {
		return fmt.Errorf("enqueue due alerts of panel %d: %w", panelID, err)
	}
	return nil
}

// Alert enqueues the e-mail of an alert. Its task id names the alert, so
// the sweep enqueueing it again is harmless (and revives one that ran out
// of retries while the mail server was down).
func (e *Enqueuer) Alert(ctx context.Context, alertID int64) error {
	_, err := e.enqueueOnce(ctx, asynq.NewTask(TypeAlert, []byte(strconv.FormatInt(alertID, 10))),
		e.Namespace+":"+queueMail, fmt.Sprintf("alert:%d", alertID), asynq.MaxRetry(50), asynq.Timeout(time.Minute))
	if err != nil {
		return fmt.Errorf("enqueue alert %d: %w", alertID, err)
	}
	return nil
}
