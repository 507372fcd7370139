package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
)

// Config tunes delivery. Zero fields take the defaults.
type Config struct {
	// RetrySchedule is the wait before each retry; default DefaultRetrySchedule.
	RetrySchedule []time.Duration
	// Lease is how long a claimed batch belongs to its worker before
	// another may take it over; default 2 minutes, well above the
	// outbound timeout.
	Lease time.Duration
	// Budget bounds one flush task's loop; then it hands over to a fresh
	// task so one busy webhook does not pin a worker forever. Default 10 s.
	Budget time.Duration
	// ProbeSchedule is the wait before each probe of an open circuit;
	// default health.ProbeSchedule (30 s up to 30 min).
	ProbeSchedule []time.Duration
	// HoldUnrecorded bounds how long requests made from one claim go
	// unrecorded (see claimRequests); default 500 ms.
	HoldUnrecorded time.Duration
	// StopGrace is how long a request in flight may still take once the
	// worker stops (Stop) before it is cut off and its rows handed back;
	// default 20 s, inside asynq's 30 s shutdown timeout with time left to
	// record and let the webhook go.
	StopGrace time.Duration
}

func (c Config) withDefaults() Config {
	if len(c.RetrySchedule) == 0 {
		c.RetrySchedule = DefaultRetrySchedule
	}
	c.Lease = cmp.Or(c.Lease, 2*time.Minute)
	c.Budget = cmp.Or(c.Budget, 10*time.Second)
	c.HoldUnrecorded = cmp.Or(c.HoldUnrecorded, 500*time.Millisecond)
	c.StopGrace = cmp.Or(c.StopGrace, 20*time.Second)
	return c
}

// DelivererParams are what a Deliverer works with; the worker (package
// jobs) fills them.
type DelivererParams struct {
	Config   Config
	Store    *models.Store
	Sender   *Sender
	Enqueuer *queue.Enqueuer
	Limiter  *ratelimit.Limiter
	Tracker  *health.Tracker
	// Metrics counts attempts; nil counts nothing.
	Metrics *metrics.Metrics
	// Concurrency is the worker's task slots, PanelConcurrency how many of
	// them one panel may hold (0: half, negative: no cap).
	Concurrency, PanelConcurrency int
	Log                           *slog.Logger
}

// NewDeliverer builds a Deliverer, defaults filled in.
func NewDeliverer(p DelivererParams) *Deliverer {
	cut, cutOff := context.WithCancel(context.Background())
	return &Deliverer{cut: cut, cutOff: cutOff, cfg: p.Config.withDefaults(), metrics: metrics.OrNop(p.Metrics), tracker: p.Tracker, store: p.Store,
		sender: p.Sender, enqueuer: p.Enqueuer, limiter: p.Limiter, log: p.Log, stopping: make(chan struct{}),
		share: &panelShare{slots: p.Concurrency, max: panelShareOf(p.Concurrency, p.PanelConcurrency)}}
}

// Stop tells the flushes running and to come that the worker is stopping:
// each records what it sent, lets its webhook go and hands the rest to a
// fresh flush task (another worker's, or this one's after a restart)
// after the request in flight, which is cut off after Config.StopGrace.
// asynq does not cancel a running task when it shuts down, until its
// shutdown timeout ends, and the process exits then: a flush still
// sending kept its webhook's send lease, and the webhook waited for the
// lease to run out (the HTTP timeout + 90 s).
func (d *Deliverer) Stop() {
	d.stopOnce.Do(func() {
		close(d.stopping)
		time.AfterFunc(d.cfg.StopGrace, d.cutOff)
	})
}

// stopped reports whether Stop was called.
func (d *Deliverer) stopped() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}

// sendContext is ctx, cut off Config.StopGrace after Stop: what a flush
// sends with.
func (d *Deliverer) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	sctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(d.cut, cancel)
	return sctx, func() { unhook(); cancel() }
}

// Deliverer runs flush tasks: claim a batch from the outbox, send it, record
// the attempt, and retry or give up.
type Deliverer struct {
	cfg      Config
	metrics  *metrics.Metrics
	tracker  *health.Tracker
	store    *models.Store
	sender   *Sender
	enqueuer *queue.Enqueuer
	limiter  *ratelimit.Limiter
	share    *panelShare
	log      *slog.Logger
	// stopping is closed by Stop, and cut ends Config.StopGrace later.
	stopping chan struct{}
	stopOnce sync.Once
	cut      context.Context
	cutOff   context.CancelFunc
}

// panelBusyDelay is how long a webhook whose panel holds its whole share of
// the worker waits before it asks again. asynq schedules in whole seconds,
// so a shorter delay would not come sooner.
const panelBusyDelay = time.Second

// HandleFlush sends a webhook's due deliveries, batch after batch, until
// none is left, another worker holds the webhook, or the budget is spent.
func (d *Deliverer) HandleFlush(ctx context.Context, t *asynq.Task) error {
	var p queue.FlushPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("flush: bad payload: %w: %w", err, asynq.SkipRetry)
	}
	// asynq schedules in whole seconds, so a window that ends inside a
	// second comes due early: wait out the rest. Claiming only after the
	// window has ended also means every event of the window (whose enqueue
	// found this task's id taken) is committed and seen by the claim.
	if early := time.UnixMilli(p.WindowEnd).Sub(d.store.Now()); early > 0 && !sleep(ctx, early) {
		return ctx.Err()
	}
	target, err := d.store.DeliveryTarget(ctx, p.WebhookID)
	if errors.Is(err, models.ErrNotFound) {
		return nil // deleted with its deliveries
	}
	if err != nil {
		return err
	}
	if target.Status != models.StatusActive {
		return nil // its deliveries are held until it is back
	}
	if target.LeaseUntil != nil && target.LeaseUntil.After(d.store.Now()) {
		// Another worker holds the webhook, as a claim would find: that
		// worker looks for pending rows again after it lets go, in a
		// snapshot taken after this read, so this task's rows (committed
		// before its window ended) are its to send. Leaving now saves
		// the claim statement.
		return nil
	}
	spec, err := d.store.Spec(&target.Webhook)
	if err != nil {
		return fmt.Errorf("flush: %w: %w", err, asynq.SkipRetry)
	}
	if !d.share.acquire(target.PanelID) {
		// Give the slot to another panel's work; nothing is claimed yet,
		// so the deliveries simply wait in the outbox a little longer.
		return d.enqueuer.FlushAt(ctx, p.WebhookID, d.store.Now().Add(panelBusyDelay))
	}
	defer d.share.release(target.PanelID)
	// This worker holds the send lease while it loops, so it alone moves
	// the webhook's health: it carries it along and writes it with each
	// batch it records. The webhook is active, so a health still disabled
	// is one whose reset has not landed yet (see Health.Resumed).
	h := health.Parse(target.Health).Resumed()
	th := health.ThresholdsFor(target.HealthSettings, target.PanelHealthSettings)
	deadline := time.Now().Add(d.cfg.Budget)
	size := claimSizes(spec.SendBatchSize())
	sctx, cancel := d.sendContext(ctx)
	defer cancel()
	claim, err := d.store.ClaimRequests(ctx, p.WebhookID, size, time.Time{}, d.cfg.Lease)
	for {
		if err != nil {
			return err
		}
		switch {
		case claim.Busy:
			// The worker holding it looks again before it lets go.
			return nil
		case !claim.NotBefore.IsZero():
			return d.enqueuer.FlushAt(ctx, p.WebhookID, claim.NotBefore)
		case len(claim.Rows) == 0:
			return nil
		}
		if d.stopped() {
			// A claim writes no rows: letting the webhook go hands them back.
			return d.handOver(ctx, p.WebhookID, claim.Lease, sentFromClaim{})
		}
		var s sentFromClaim
		s, h, err = d.sendClaimed(sctx, target, &spec, claim, h, th)
		if err != nil {
			if sctx.Err() != nil && ctx.Err() == nil {
				// Cut off by Stop before a request (reading contacts).
				return errors.Join(err, d.handOver(ctx, p.WebhookID, claim.Lease, s))
			}
			// The rows not recorded go back when their lease runs out; the
			// requests that went out are recorded even if the task is
			// being cancelled, or they would be sent again.
			cctx, cancel := detached(ctx)
			defer cancel()
			return errors.Join(err, d.recordAccepted(cctx, s))
		}
		done := s.last.done
		if sctx.Err() != nil && !wholly(done) {
			// Cut off mid-request (stopping, or the task cancelled): the
			// rows of that request go back, due at once, their attempt not
			// counted (the receiver may have them already; delivery is at
			// least once). An answer that came in whole before the cut is
			// recorded below, as any other, with its alert.
			return errors.Join(ctx.Err(), d.handOver(ctx, p.WebhookID, claim.Lease, s))
		}
		if s.tr.To == health.Disabled && s.tr.Changed() {
			if err := d.recordAccepted(ctx, s); err != nil {
				return err
			}
			return d.disable(ctx, target, done, h, th)
		}
		// An alert goes out once the batch that caused it is recorded.
		alert := func(ctx context.Context) {
			if s.tr.Alert != health.NoAlert {
				d.tracker.Alert(ctx, &target.Webhook, s.tr.Alert, h, th, 0)
			}
		}
		if time.Now().After(deadline) || d.stopped() || sctx.Err() != nil {
			// Hand over to a fresh task so one busy webhook does not pin
			// this worker, nor keep it from stopping; whatever is left is
			// in the outbox. It writes with a context of its own: the
			// task's may be ending (cut off just after a whole answer).
			cctx, cancel := detached(ctx)
			defer cancel()
			if err := d.record(cctx, append(s.accepted, s.last)); err != nil {
				return errors.Join(ctx.Err(), err)
			}
			alert(cctx)
			pending, err := d.store.ReleaseWebhook(cctx, p.WebhookID, claim.Lease)
			if err != nil || !pending {
				return errors.Join(ctx.Err(), err)
			}
			return errors.Join(ctx.Err(), d.enqueuer.Flush(cctx, p.WebhookID, 0))
		}
		if wholly(done) {
			// The steady state: one statement records these requests
			// and claims the next rows.
			s.accepted = append(s.accepted, s.last)
			held := claim.Lease
			claim, err = d.store.DeliveredAllAndClaim(ctx, completions(s.accepted), size, d.cfg.Lease)
			var after *models.AfterRecordError
			if err != nil && !errors.As(err, &after) {
				// The statement failed (the database, or the task being
				// cancelled) and, as far as the worker can tell, recorded
				// nothing: a later step's failure says ErrAfterRecord. The
				// requests went out all the same: record them one by one,
				// as a way out, and let the webhook go, so they are not
				// sent again once the lease runs out. (Were the connection
				// lost just as the statement committed, the log would show
				// a second attempt of each: a lesser harm than a resend.)
				if herr := d.handOver(ctx, p.WebhookID, held, s); herr != nil {
					return errors.Join(err, herr)
				}
				actx, cancel := detached(ctx)
				defer cancel()
				alert(actx)
				return err
			}
			// Recorded.
			for _, r := range s.accepted {
				d.moveRuns(ctx, r.rows, r.done)
			}
			alert(ctx)
			if after != nil {
				// A step after the record failed (letting the webhook go,
				// most often): try letting it go once more, so it does
				// not wait out the lease the record renewed.
				return errors.Join(err, d.handOver(ctx, p.WebhookID, after.Lease, sentFromClaim{}))
			}
			continue
		}
		if err := d.record(ctx, append(s.accepted, s.last)); err != nil {
			return err
		}
		alert(ctx)
		claim, err = d.store.ClaimRequests(ctx, p.WebhookID, size, claim.Lease, d.cfg.Lease)
	}
}

// A claim of small batches takes several requests' worth of rows, which
// go out one request after another: those the receiver takes whole are
// recorded together after the last, in the statement that claims the
// next rows (DeliveredAllAndClaim), instead of one statement and commit
// per request. With a batch of one row that halves what PostgreSQL does
// per delivery. Anything else (a failure, a change of health, the end of
// the claim, the task's budget) records at once. Until recorded, a
// delivered row still reads as pending, and a worker that dies before
// recording sends it again (delivery is at least once; a receiver drops
// duplicates by delivery id); Config.HoldUnrecorded bounds both. It also
// bounds how long requests go on from a claim after the webhook was
// deactivated, which the next claim would see.
const (
	// claimRequests is how many requests' worth of rows one claim takes
	// at most, and claimRowsTarget how many rows that aims at: a claim
	// of batches of 32 rows or more is one request, as before.
	claimRequests   = 16
	claimRowsTarget = 32
)

// claimSizes are the sizes of a claim for batches of batch rows.
func claimSizes(batch int) models.Sizes {
	return models.Sizes{Batch: batch, Claim: batch * max(1, min(claimRequests, claimRowsTarget/max(batch, 1)))}
}

// sentRequest is one request made from a claim: what became of it and
// the rows it carried.
type sentRequest struct {
	done *models.Completion
	rows []models.ClaimedRow
}

// sentFromClaim is what became of the requests made from one claim: those
// the receiver took whole and that are not recorded yet (accepted), and
// the last one and what it did to the webhook's health, which the caller
// records as it sees fit.
type sentFromClaim struct {
	accepted []sentRequest
	last     sentRequest
	tr       health.Transition
}

// completions are the outcomes of requests, for the store.
func completions(rs []sentRequest) []*models.Completion {
	out := make([]*models.Completion, len(rs))
	for i, r := range rs {
		out[i] = r.done
	}
	return out
}

// detached is a context for writes that must land even as ctx ends: a
// flush records what it sent whether or not its task is being cancelled.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// sendClaimed sends a claim's rows, a batch per request, while the
// receiver takes them whole and nothing calls for a record first (see
// Config.HoldUnrecorded). It returns the health after the last request.
func (d *Deliverer) sendClaimed(ctx context.Context, target *models.DeliveryTarget, spec *models.WebhookSpec, claim *models.Claim,
	h health.Health, th health.Thresholds) (s sentFromClaim, _ health.Health, _ error) {
	size, rows, start := spec.SendBatchSize(), claim.Rows, time.Now()
	for {
		batch := rows[:min(size, len(rows))]
		rows = rows[len(batch):]
		contacts, err := d.templateContacts(ctx, target.PanelID, spec, batch)
		if err != nil {
			return s, h, err
		}
		done, next, tr := d.sendBatch(ctx, target, spec, &models.Claim{Rows: batch, Lease: claim.Lease}, contacts, h, th)
		h = next
		s.last, s.tr = sentRequest{done: done, rows: batch}, tr
		if len(rows) == 0 || ctx.Err() != nil || !wholly(done) || tr.Changed() || tr.Alert != health.NoAlert ||
			time.Since(start) >= d.cfg.HoldUnrecorded || d.stopped() {
			return s, h, nil
		}
		s.accepted = append(s.accepted, s.last)
	}
}

// handOver is how a flush stops before its work is done: it records the
// requests that went out (s.accepted), lets the webhook go and leaves the
// rows that remain to a fresh flush task. It writes with a context of its
// own, as the task's may be ending.
func (d *Deliverer) handOver(ctx context.Context, webhookID int64, lease time.Time, s sentFromClaim) error {
	cctx, cancel := detached(ctx)
	defer cancel()
	if err := d.recordAccepted(cctx, s); err != nil {
		return err
	}
	pending, err := d.store.ReleaseWebhook(cctx, webhookID, lease)
	if err != nil || !pending {
		return err
	}
	return d.enqueuer.Flush(cctx, webhookID, 0)
}

// recordAccepted records the requests of a claim that the receiver took
// whole and that are not recorded yet, one statement each: the way out of
// the steady state (a failure, shutting down, handing over), which is rare.
func (d *Deliverer) recordAccepted(ctx context.Context, s sentFromClaim) error {
	return d.record(ctx, s.accepted)
}

// record records requests made from a claim, in the order they were made,
// one statement each, and moves the journey runs waiting for their rows.
func (d *Deliverer) record(ctx context.Context, rs []sentRequest) error {
	for _, r := range rs {
		if err := d.store.CompleteBatch(ctx, r.done); err != nil {
			return err
		}
		d.moveRuns(ctx, r.rows, r.done)
	}
	return nil
}

// wholly reports a batch the receiver accepted whole, with nothing held back.
func wholly(c *models.Completion) bool {
	return c.Attempt != nil && len(c.Delivered) > 0 && len(c.Retry)+len(c.Failed)+len(c.Released) == 0
}

// disable records the batch that disabled the webhook, holds its
// deliveries (that batch among them: held, not dropped) and alerts.
func (d *Deliverer) disable(ctx context.Context, target *models.DeliveryTarget, done *models.Completion, h health.Health, th health.Thresholds) error {
	if err := d.store.CompleteBatch(ctx, done); err != nil {
		return err
	}
	held, err := d.store.DisableWebhook(ctx, target.ID, done.Lease, done.Health)
	if err != nil {
		return err
	}
	d.log.WarnContext(ctx, "webhook disabled by the failure tracker", "webhook_id", target.ID, "held", held,
		"failing_since", h.FailingSince, "last_error", h.LastError)
	d.tracker.Alert(ctx, &target.Webhook, health.AlertDisabled, h, th, held)
	return nil
}

// sendBatch makes one request from a claim and says what became of each
// row and of the webhook's health; the caller records it.
func (d *Deliverer) sendBatch(ctx context.Context, target *models.DeliveryTarget, spec *models.WebhookSpec, claim *models.Claim,
	contacts []map[string]any, h health.Health, th health.Thresholds) (*models.Completion, health.Health, health.Transition) {
	w := &target.Webhook
	rows := claim.Rows
	items := make([][]byte, len(rows))
	for i := range rows {
		items[i] = rows[i].Item
	}
	body := BuildFormatBody(target.PanelName, spec, items, contacts)
	n := body.N
	done := &models.Completion{WebhookID: w.ID, Lease: claim.Lease, Released: ids(rows[max(n, 1):])}
	if n == 0 {
		// The first item can never go out as it is: too large, or its
		// template cannot render it. It fails; the endpoint is not at fault.
		done.Failed = ids(rows[:1])
		msg := fmt.Sprintf("item of %d bytes does not fit max_body_bytes (%d)", len(rows[0].Item), spec.MaxBodyBytes)
		if body.Err != nil {
			msg = body.Err.Error()
		}
		done.Attempt = &models.Attempt{PanelID: w.PanelID, WebhookID: w.ID, BatchID: BatchID(done.Failed), ItemCount: 1,
			RequestHeaders: json.RawMessage(`{}`), Outcome: models.OutcomeFailed, ErrorClass: errClass(body), Error: msg}
		return done, h, health.Transition{From: h.State, To: h.State}
	}
	sent := rows[:n]
	d.waitForRate(ctx, w.ID, spec.RateLimitPerS)
	batchID := BatchID(ids(sent))
	// A journey node that saves from the response needs this row's own
	// answer: it is kept only when the request carried the row alone.
	capture := 0
	if n == 1 && sent[0].KeepResponse {
		capture = journey.MaxResponseBytes
	}
	res := d.sender.Send(ctx, Request{Spec: spec, MessageID: batchID, Body: body.Bytes, ContentType: body.ContentType, CaptureBytes: capture})
	now := d.store.Now()
	next, tr := h.Observe(health.Outcome{OK: res.OK(), Status: res.StatusCode, Error: res.ErrorText(), At: now}, th, spec.StrictDisable)
	done.Health, _ = json.Marshal(next)

	// What becomes of each row is decided apart from the I/O (Outcome).
	policy := RetryPolicy{Schedule: d.cfg.RetrySchedule, MaxAttempts: spec.MaxAttempts, GiveUpAfter: spec.GiveUpAfter}
	o := Outcome(OutcomeInput{Response: &res, Rows: sent, Health: next, Policy: policy,
		ProbeSchedule: d.cfg.ProbeSchedule, Now: now, Jitter: Jitter()})
	done.Delivered, done.Retry, done.RetryAt, done.Failed = o.Delivered, o.Retry, o.RetryAt, o.Failed
	if len(o.Delivered) == 1 && len(res.Captured) > 0 {
		done.Response = res.Captured
	}
	headers, _ := json.Marshal(res.Header)
	done.Attempt = &models.Attempt{
		PanelID: w.PanelID, WebhookID: w.ID, BatchID: batchID, ItemCount: n, RequestHeaders: headers,
		StatusCode: res.StatusCode, LatencyMS: int(res.Latency.Milliseconds()), ResponseBody: string(res.Body),
		Error: res.ErrorText(), ErrorClass: res.ErrClass, Outcome: attemptOutcome(done), CreatedAt: now,
	}
	if ctx.Err() == nil {
		d.metrics.Attempts.WithLabelValues(done.Attempt.Outcome, res.ErrClass).Inc()
		d.metrics.AttemptSeconds.WithLabelValues(done.Attempt.Outcome).Observe(res.Latency.Seconds())
	}
	if !res.OK() && ctx.Err() == nil {
		d.log.WarnContext(ctx, "delivery attempt failed", "webhook_id", w.ID, "batch_id", batchID, "items", n,
			"delivery_ids", firstIDs(sent, 10), "status", res.StatusCode, "error_class", res.ErrClass,
			"error", res.ErrorText(), "outcome", done.Attempt.Outcome, "health", next.State)
	}
	return done, next, tr
}

// moveRuns asks for the journey runs waiting for rows of a recorded batch
// that were delivered or failed for good to move on. The rows' new status
// is committed, so a task lost here is found by the journey sweep.
func (d *Deliverer) moveRuns(ctx context.Context, rows []models.ClaimedRow, done *models.Completion) {
	for _, r := range settledRuns(rows, done) {
		if err := d.enqueuer.Outcome(ctx, *r.RunID, r.ID); err != nil {
			d.log.WarnContext(ctx, "journey outcome not enqueued; the sweep will move the run", "run_id", *r.RunID, "error", err)
		}
	}
}

// settledRuns are the rows of a batch whose journey run awaits their
// outcome and got one: delivered, or failed for good. A row to retry or
// released keeps its run waiting. Most batches carry no awaited row, so
// they cost one pass and no set.
func settledRuns(rows []models.ClaimedRow, done *models.Completion) []models.ClaimedRow {
	if !slices.ContainsFunc(rows, func(r models.ClaimedRow) bool { return r.RunAwaits && r.RunID != nil }) {
		return nil
	}
	settled := make(map[uuid.UUID]struct{}, len(done.Delivered)+len(done.Failed))
	for _, id := range done.Delivered {
		settled[id] = struct{}{}
	}
	for _, id := range done.Failed {
		settled[id] = struct{}{}
	}
	var out []models.ClaimedRow
	for _, r := range rows {
		if _, ok := settled[r.ID]; ok && r.RunAwaits && r.RunID != nil {
			out = append(out, r)
		}
	}
	return out
}

// waitForRate blocks until the webhook's request rate allows one more. A
// rate limiter that cannot answer lets the request through: one request in
// flight per webhook already bounds the pressure.
func (d *Deliverer) waitForRate(ctx context.Context, webhookID int64, perSecond int) {
	if perSecond <= 0 || d.limiter == nil {
		return
	}
	for {
		ok, wait, err := d.limiter.Allow(ctx, fmt.Sprintf("hook:%d", webhookID), perSecond, time.Second)
		if ok || err != nil || !sleep(ctx, wait) {
			return
		}
	}
}

// firstIDs names the first n deliveries of a batch, for logs.
func firstIDs(rows []models.ClaimedRow, n int) []string {
	out := make([]string, 0, min(n, len(rows)))
	for _, r := range rows[:min(n, len(rows))] {
		out = append(out, models.DeliveryID(r.ID))
	}
	return out
}

// attemptOutcome is what an attempt is logged as: what became of its batch.
func attemptOutcome(c *models.Completion) string {
	switch {
	case len(c.Delivered) > 0:
		return models.OutcomeDelivered
	case len(c.Retry) > 0:
		return models.OutcomeRetry
	}
	return models.OutcomeFailed
}

func ids(rows []models.ClaimedRow) []uuid.UUID {
	out := make([]uuid.UUID, len(rows))
	for i := range rows {
		out[i] = rows[i].ID
	}
	return out
}

// sleep waits for d or until ctx ends; it reports whether it slept fully.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
