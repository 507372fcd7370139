package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/templates"
	texttemplate "text/template"
)

// TypeAlert sends one alert e-mail.
const TypeAlert = "mail:alert"

// Tracker is the failure tracker's I/O around package health: it queues
// alerts, re-enables and probes disabled webhooks, and lets degraded ones
// recover when their window goes quiet.
type Tracker struct {
	Store    *models.Store
	Enqueuer *Enqueuer
	Sender   *Sender // for automatic probes
	Log      *slog.Logger
}

// alertDetails are the facts an alert e-mail states, as they were when the
// state changed.
type alertDetails struct {
	Label    string          `json:"label"`
	Endpoint string          `json:"endpoint"`
	Since    *time.Time      `json:"since,omitempty"`
	Held     int64           `json:"held"`
	Attempts int             `json:"attempts"`
	Failures int             `json:"failures"`
	Window   string          `json:"window"`
	Recent   []recentAttempt `json:"recent"`
}

type recentAttempt struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// thresholds merges a webhook's thresholds over its panel's over the defaults.
func thresholds(asset, panel json.RawMessage) health.Thresholds {
	var a, p health.Thresholds
	_ = json.Unmarshal(asset, &a)
	_ = json.Unmarshal(panel, &p)
	return a.Merge(p).Merge(health.Defaults)
}

// Alert writes an alert (unless one of the same state went out within the
// hour) and enqueues its e-mail. Failures are logged: the alert sweep sends
// what was written, and an alert that could not be written is a lost
// e-mail, not a lost event.
func (t *Tracker) Alert(ctx context.Context, w *models.Webhook, kind health.Alert, h health.Health, th health.Thresholds, held int64) {
	d := alertDetails{Label: w.Label, Endpoint: endpoint(w.URL), Since: h.FailingSince, Held: held, Window: th.Window.D().String()}
	d.Attempts, d.Failures = h.Window(th.Window.D(), t.Store.Now())
	if recent, err := t.Store.RecentAttempts(ctx, w.ID, 5); err == nil {
		for _, a := range recent {
			what := fmt.Sprintf("HTTP %d", a.StatusCode)
			if a.Error != "" {
				what = a.Error
			}
			d.Recent = append(d.Recent, recentAttempt{At: a.CreatedAt, What: what})
		}
	}
	id, err := t.Store.QueueAlert(ctx, w.PanelID, w.ID, string(kind), d)
	if err != nil {
		t.Log.ErrorContext(ctx, "alert not written", "webhook_id", w.ID, "state", kind, "error", err)
		return
	}
	if id == 0 {
		t.Log.InfoContext(ctx, "alert throttled: one of this state went out within the hour", "webhook_id", w.ID, "state", kind)
		return
	}
	if err := t.Enqueuer.Alert(ctx, id); err != nil {
		t.Log.WarnContext(ctx, "alert e-mail not enqueued; the sweep will send it", "alert_id", id, "error", err)
	}
}

// endpoint is what an e-mail says of a URL: scheme, host and path, never
// the query, which may hold a token.
func endpoint(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Reenabled resets the health of a webhook a person put back in service,
// and sends "recovered" if its outage was announced. It reports whether
// the health changed.
func (t *Tracker) Reenabled(ctx context.Context, w *models.Webhook, released int64) bool {
	h := health.Parse(w.Health)
	if h.State == health.Healthy && !h.Alerted {
		return false
	}
	raw, _ := json.Marshal(h.Reset())
	if _, err := t.Store.SetHealth(ctx, w.ID, raw); err != nil {
		t.Log.ErrorContext(ctx, "health not reset", "webhook_id", w.ID, "error", err)
	}
	if h.Alerted {
		t.Alert(ctx, w, health.AlertRecovered, h, thresholds(w.HealthSettings, nil), released)
	}
	return true
}

// A probe is a request that may hang until the HTTP timeout, and every
// panel's due probes are found by one scheduler run. So that one panel's
// hanging endpoints cannot hold back another's recovery, panels are probed
// side by side (probePanels at once) and one panel gets at most
// probesPerPanel probes a run; the rest of its due webhooks wait their
// auto_probe_minutes again.
const (
	probePanels    = 16
	probesPerPanel = 4
)

// Probe tests the disabled webhooks whose automatic probe is due and
// re-enables those that answer 200. A probe that fails to run is logged
// and the others go on.
func (t *Tracker) Probe(ctx context.Context) error {
	due, err := t.Store.ProbeDue(ctx)
	if err != nil {
		return err
	}
	var panels []int64
	byPanel := map[int64][]*models.Webhook{}
	for i := range due {
		w := &due[i]
		if byPanel[w.PanelID] == nil {
			panels = append(panels, w.PanelID)
		}
		byPanel[w.PanelID] = append(byPanel[w.PanelID], w)
	}
	sem := make(chan struct{}, probePanels)
	var wg sync.WaitGroup
	for _, panelID := range panels {
		hooks := byPanel[panelID]
		if len(hooks) > probesPerPanel {
			t.Log.InfoContext(ctx, "probes of a panel deferred to a later run", "panel_id", panelID, "deferred", len(hooks)-probesPerPanel)
			hooks = hooks[:probesPerPanel]
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, w := range hooks {
				if err := t.probe(ctx, w); err != nil {
					t.Log.ErrorContext(ctx, "automatic probe not run", "webhook_id", w.ID, "error", err)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// probe tests one disabled webhook and re-enables it after a 200.
func (t *Tracker) probe(ctx context.Context, w *models.Webhook) error {
	spec, err := t.Store.Spec(w)
	if err != nil {
		return err
	}
	panel, err := t.Store.PanelByID(ctx, w.PanelID)
	if err != nil {
		return err
	}
	res := t.Sender.Test(ctx, panel.Name, &spec)
	test := &models.WebhookTest{PanelID: w.PanelID, WebhookID: &w.ID, ConfigFP: w.ConfigFP, URL: w.URL,
		Passed: res.Err == nil && res.StatusCode == 200, StatusCode: res.StatusCode,
		LatencyMS: int(res.Latency.Milliseconds()), ResponseBody: string(res.Body), Error: res.ErrorText(), ErrorClass: res.ErrClass}
	if err := t.Store.RecordTest(ctx, test); err != nil {
		return err
	}
	if !test.Passed {
		t.Log.InfoContext(ctx, "automatic probe failed; still disabled", "webhook_id", w.ID, "error", res.ErrorText())
		return nil
	}
	before := *w
	_, released, err := t.Store.ActivateWebhook(ctx, w.PanelID, w.ID)
	if err != nil {
		return err
	}
	t.Log.InfoContext(ctx, "automatic probe passed; webhook re-enabled", "webhook_id", w.ID, "released", released)
	t.Reenabled(ctx, &before, released)
	if released > 0 {
		if err := t.Enqueuer.Flush(ctx, w.ID, 0); err != nil {
			t.Log.WarnContext(ctx, "flush not enqueued; the reconciler will pick it up", "webhook_id", w.ID, "error", err)
		}
	}
	return nil
}

// Rollup lets a degraded webhook that has gone quiet recover: its state
// only moves on requests, and without requests its window empties.
func (t *Tracker) Rollup(ctx context.Context) error {
	ws, err := t.Store.WebhooksInState(ctx, string(health.Degraded))
	if err != nil {
		return err
	}
	now := t.Store.Now()
	for i := range ws {
		w := &ws[i]
		h := health.Parse(w.Health)
		th := thresholds(w.HealthSettings, nil)
		attempts, failures := h.Window(th.Window.D(), now)
		if attempts >= th.DegradedMinAttempts && float64(failures) > th.DegradedRate*float64(attempts) {
			continue
		}
		alerted := h.Alerted
		h.State, h.Alerted = health.Healthy, false
		raw, _ := json.Marshal(h)
		if ok, err := t.Store.SetHealth(ctx, w.ID, raw); err != nil || !ok {
			continue // a worker is sending: it will judge on its own request
		}
		if alerted {
			t.Alert(ctx, w, health.AlertRecovered, h, th, 0)
		}
	}
	return nil
}

// SweepAlerts re-enqueues alerts written but not sent (their task lost, or
// SMTP down for longer than the task's retries).
func (t *Tracker) SweepAlerts(ctx context.Context) error {
	ids, err := t.Store.UnsentAlerts(ctx, 30*time.Second)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := t.Enqueuer.Alert(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Alerter sends alert e-mails.
type Alerter struct {
	Store   *models.Store
	Metrics *Metrics
	Mailer  *Mailer // nil: SMTP is not configured
	// PublicURL is where people reach Herald, for the link in the e-mail.
	PublicURL string
	Log       *slog.Logger

	html *htmltemplate.Template
	text *texttemplate.Template
}

// alertView is what the templates show.
type alertView struct {
	State, Label, Panel, Endpoint, Link, Window, Rate, Since string
	Held                                                     int64
	Attempts, Failures                                       int
	Recent                                                   []struct{ At, What string }
}

// HandleAlert sends one alert to the panel's and the webhook's recipients.
// A failure to send is returned, so asynq retries it with backoff: a mail
// server outage delays alerts but loses none.
func (a *Alerter) HandleAlert(ctx context.Context, t *asynq.Task) error {
	id, err := strconv.ParseInt(string(t.Payload()), 10, 64)
	if err != nil {
		return fmt.Errorf("alert: bad payload: %w", asynq.SkipRetry)
	}
	alert, err := a.Store.AlertByID(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil // its webhook was deleted
	}
	if err != nil {
		return err
	}
	if alert.SentAt != nil {
		return nil
	}
	if earlier, err := a.Store.EarlierUnsentAlert(ctx, alert); err != nil {
		return err
	} else if earlier != 0 {
		// Retried shortly (see retryDelay) once the earlier one went out.
		return fmt.Errorf("alert %d waits for alert %d of the same webhook", id, earlier)
	}
	to, err := a.Store.RecipientsFor(ctx, alert.PanelID, alert.WebhookID)
	if err != nil {
		return err
	}
	if len(to) == 0 {
		a.Log.WarnContext(ctx, "alert has no recipients; add some under /api/v1/alert-recipients", "alert_id", id)
		return a.Store.MarkAlert(ctx, id, nil, nil)
	}
	if a.Mailer == nil {
		// Kept unsent: once HERALD_SMTP_URL is set, the sweep sends it.
		_ = a.Store.MarkAlert(ctx, id, nil, errors.New("SMTP is not configured (HERALD_SMTP_URL)"))
		a.Log.WarnContext(ctx, "alert not sent: HERALD_SMTP_URL is not set", "alert_id", id)
		return nil
	}
	subject, text, html, err := a.render(ctx, alert)
	if err != nil {
		return fmt.Errorf("alert %d: %w: %w", id, err, asynq.SkipRetry)
	}
	sendErr := a.Mailer.Send(ctx, to, subject, text, html)
	if err := a.Store.MarkAlert(ctx, id, to, sendErr); err != nil {
		return err
	}
	if sendErr != nil {
		a.Log.WarnContext(ctx, "alert e-mail not sent; will retry", "alert_id", id, "error", sendErr)
		return sendErr
	}
	OrNop(a.Metrics).AlertsSent.WithLabelValues(alert.State).Inc()
	a.Log.InfoContext(ctx, "alert e-mail sent", "alert_id", id, "webhook_id", alert.WebhookID, "state", alert.State, "recipients", len(to))
	return nil
}

func (a *Alerter) render(ctx context.Context, alert *models.Alert) (subject, text, html string, err error) {
	if a.html == nil {
		if a.html, a.text, err = templates.Mail(); err != nil {
			return "", "", "", err
		}
	}
	var d alertDetails
	if err := json.Unmarshal(alert.Details, &d); err != nil {
		return "", "", "", err
	}
	panel, err := a.Store.PanelByID(ctx, alert.PanelID)
	if err != nil {
		return "", "", "", err
	}
	v := alertView{State: alert.State, Label: d.Label, Panel: panel.Name, Endpoint: d.Endpoint, Window: d.Window,
		Held: d.Held, Attempts: d.Attempts, Failures: d.Failures,
		Link: fmt.Sprintf("%s/webhooks/%d", a.PublicURL, alert.WebhookID)}
	if d.Attempts > 0 {
		v.Rate = fmt.Sprintf("%.0f %%", 100*float64(d.Failures)/float64(d.Attempts))
	}
	if d.Since != nil {
		v.Since = d.Since.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	for _, r := range d.Recent {
		v.Recent = append(v.Recent, struct{ At, What string }{r.At.UTC().Format("2006-01-02 15:04:05"), r.What})
	}
	subject = map[string]string{
		"degraded":  "[Herald] Webhook %q is failing often",
		"disabled":  "[Herald] Webhook %q has been disabled",
		"recovered": "[Herald] Webhook %q has recovered",
	}[alert.State]
	subject = fmt.Sprintf(subject, d.Label)
	var tb, hb bytes.Buffer
	if err := a.text.Execute(&tb, v); err != nil {
		return "", "", "", err
	}
	if err := a.html.Execute(&hb, v); err != nil {
		return "", "", "", err
	}
	return subject, tb.String(), hb.String(), nil
}
