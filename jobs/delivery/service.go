package delivery

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Service is what people do to a webhook and its outbox through the admin
// API and the UI alike: test it, put it in service, replay or create
// deliveries. Each operation lives here once, with the flush that follows
// it, so the two audiences cannot drift apart.
type Service struct {
	Store  *models.Store
	Sender *Sender
	// Enqueuer asks the worker to flush; nil enqueues nothing, and the
	// reconciler finds the work all the same.
	Enqueuer *queue.Enqueuer
	// Tracker resets the health of webhooks put back in service; nil
	// resets nothing.
	Tracker *health.Tracker
	// Metrics counts the deliveries created; nil counts nothing.
	Metrics *metrics.Metrics
	Log     *slog.Logger
}

// WithLog returns a copy of s that logs to l: the HTTP side passes a
// logger that carries the request's id.
func (s *Service) WithLog(l *slog.Logger) *Service {
	c := *s
	c.Log = l
	return &c
}

// Test sends the sample batch to spec and records the outcome under the
// configuration's fingerprint; webhookID is nil for a configuration not
// saved (or not as it stands). Only an HTTP 200 passes.
func (s *Service) Test(ctx context.Context, panel *models.Panel, webhookID *int64, spec *models.WebhookSpec) (*models.WebhookTest, error) {
	res := s.Sender.Test(ctx, panel.Name, spec)
	t := &models.WebhookTest{
		PanelID:      panel.ID,
		WebhookID:    webhookID,
		ConfigFP:     s.Store.ConfigFingerprint(spec),
		URL:          spec.URL,
		Passed:       res.Err == nil && res.StatusCode == http.StatusOK, // exactly 200: the rule of the product
		StatusCode:   res.StatusCode,
		LatencyMS:    int(res.Latency.Milliseconds()),
		ResponseBody: string(res.Body),
		Error:        res.ErrorText(),
		ErrorClass:   res.ErrClass,
	}
	if err := s.Store.RecordTest(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// TestUnsaved checks a configuration that is not saved (or not as it
// stands) and tests it (Test), for the admin API's POST /webhooks/test and
// the UI's Test button alike.
func (s *Service) TestUnsaved(ctx context.Context, panel *models.Panel, spec *models.WebhookSpec) (*models.WebhookTest, error) {
	if err := spec.Validate(false); err != nil {
		return nil, err
	}
	return s.Test(ctx, panel, nil, spec)
}

// Activate puts a webhook in service and flushes the deliveries it held.
// Re-enabling an endpoint the failure tracker disabled resets its health
// and tells the alert recipients; the webhook returned shows that.
func (s *Service) Activate(ctx context.Context, panelID, id int64) (*models.Webhook, error) {
	w, _, err := s.activate(ctx, panelID, id)
	return w, err
}

// activate is Activate, which also says how many held deliveries it released.
func (s *Service) activate(ctx context.Context, panelID, id int64) (*models.Webhook, int64, error) {
	before, err := s.Store.Webhook(ctx, panelID, id)
	if err != nil {
		return nil, 0, err
	}
	w, released, err := s.Store.ActivateWebhook(ctx, panelID, id)
	if err != nil {
		return nil, 0, err
	}
	if s.Tracker != nil && s.Tracker.Reenabled(ctx, before, released) {
		if w, err = s.Store.Webhook(ctx, panelID, id); err != nil {
			return nil, 0, err
		}
	}
	if released > 0 {
		s.Flush(ctx, w.ID, 0)
	}
	return w, released, nil
}

// Recovery is what TestAndActivate came to: the test, and when it passed
// the webhook back in service with how many held deliveries it released.
type Recovery struct {
	Test     *models.WebhookTest
	Webhook  *models.Webhook
	Released int64
}

// TestAndActivate is recovery in one step: it tests w as saved and, when
// the test passes (HTTP 200), puts w back in service and releases what it
// held, in order. A failed test changes nothing but the last test.
func (s *Service) TestAndActivate(ctx context.Context, panel *models.Panel, w *models.Webhook) (*Recovery, error) {
	spec, err := s.Store.Spec(w)
	if err != nil {
		return nil, err
	}
	t, err := s.Test(ctx, panel, &w.ID, &spec)
	if err != nil || !t.Passed {
		return &Recovery{Test: t}, err
	}
	after, released, err := s.activate(ctx, panel.ID, w.ID)
	if err != nil {
		return nil, err
	}
	return &Recovery{Test: t, Webhook: after, Released: released}, nil
}

// Replay sends deliveries of w again from the first attempt (all failed
// ones when ids is empty) and flushes w when it is in service; otherwise
// they are held. It returns how many rows it queued again.
func (s *Service) Replay(ctx context.Context, w *models.Webhook, ids []uuid.UUID) (int64, error) {
	n, err := s.Store.ReplayDeliveries(ctx, w.PanelID, w.ID, ids)
	if err == nil && n > 0 && w.Status == models.StatusActive {
		s.Flush(ctx, w.ID, 0)
	}
	return n, err
}

// Create writes rows to the outbox of the webhook expect names, counts
// them and, when they are pending, flushes the webhook after its batch
// window, unless a worker held it as they were written: that worker sends
// them (models.EnqueueForWebhook). ok is false when the webhook is not as
// expected (models.EnqueueForWebhook): nothing was written. The status the
// rows got is in the answer's Status.
func (s *Service) Create(ctx context.Context, expect models.WebhookExpectation, rows []models.Delivery) (w models.OutboxWrite, ok bool, err error) {
	w, ok, err = s.Store.EnqueueForWebhook(ctx, expect, rows)
	if !ok || err != nil {
		return w, ok, err
	}
	metrics.OrNop(s.Metrics).DeliveriesCreated.WithLabelValues(string(w.Status)).Add(float64(len(rows)))
	if w.Status == models.DeliveryPending && !w.Leased {
		s.Flush(ctx, expect.WebhookID, time.Duration(w.BatchWaitMS)*time.Millisecond)
	}
	return w, true, nil
}

// Flush asks the worker to send a webhook's pending deliveries after
// wait. A failure is logged, not returned: the deliveries are safe in
// PostgreSQL and the reconciler enqueues the flush that Redis could not
// take.
func (s *Service) Flush(ctx context.Context, webhookID int64, wait time.Duration) {
	if s.Enqueuer == nil {
		return
	}
	if err := s.Enqueuer.Flush(ctx, webhookID, wait); err != nil {
		s.Log.WarnContext(ctx, "flush not enqueued; the reconciler will pick it up", "webhook_id", webhookID, "error", err)
	}
}
