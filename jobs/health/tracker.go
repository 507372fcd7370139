package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/templates"
)

// Tracker is the failure tracker's I/O around the state machine: it queues
// alerts, resets the health of webhooks put back in service (by a person,
// or by the Prober), and lets degraded ones recover when their window goes
// quiet.
type Tracker struct {
	Store    *models.Store
	Enqueuer *queue.Enqueuer
	Log      *slog.Logger
	// NoMail says SMTP is not configured (HERALD_SMTP_URL unset): the
	// alerts stay recorded, unsent, and SweepAlerts leaves them alone, as
	// every task it enqueued would only note again that no mail can go
	// out. Once SMTP is set, the sweep sends them.
	NoMail bool

	// sweptTo is the last panel the last full sweep came to.
	sweptTo atomic.Int64
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

// ThresholdsFor merges a webhook's thresholds over its panel's over the defaults.
func ThresholdsFor(asset, panel json.RawMessage) Thresholds {
	var a, p Thresholds
	_ = json.Unmarshal(asset, &a)
	_ = json.Unmarshal(panel, &p)
	return a.Merge(p).Merge(Defaults)
}

// Alert writes an alert (unless one of the same state went out within the
// hour) and enqueues its e-mail. Failures are logged: the alert sweep sends
// what was written, and an alert that could not be written is a lost
// e-mail, not a lost event.
func (t *Tracker) Alert(ctx context.Context, w *models.Webhook, kind Alert, h Health, th Thresholds, held int64) {
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
	queueDue(ctx, t.Store, t.Enqueuer, t.Log, w.PanelID)
}

// The mail queue is first come, first served, and shared by every panel:
// a panel whose thousand webhooks fail at once would queue a thousand
// e-mails ahead of another panel's one. So a panel holds at most
// alertPlaces places in it (models.Store.QueueDueAlerts), and its other
// alerts wait in PostgreSQL: each alert that leaves the queue (sent, or
// failed and waiting for its next attempt) brings in the panel's next
// (Alerter.sendNext), a failed alert wakes its panel when it is due again
// (TypeAlertsDue), and the sweep does both for panels whose task was lost.
const alertPlaces = 3

// lostAlertTask is how long an alert may hold its place without an
// attempt before the sweep takes its task for lost: a task runs for a
// minute at most, and retries only on a database error.
const lostAlertTask = 10 * time.Minute

// alertRetryDelay is how long an alert waits after its attempt-th failed
// sending: quickly at first (a mail server restart), then every 5 minutes.
func alertRetryDelay(attempt int) time.Duration {
	return min(time.Duration(1)<<min(attempt, 10)*time.Second, 5*time.Minute)
}

const (
	// alertGiveUpAfter is how long after it was written an alert is still
	// tried: past a day its news is stale, and the webhook's page says it
	// all the same.
	alertGiveUpAfter = 24 * time.Hour
	// alertRefusedFor is how long an alert whose recipients the mail server
	// refuses for good (mail.Refused: an address that does not exist) is
	// still tried, on at least alertRefusedTries attempts, before it is
	// given up. Tried on, each such alert cost the shared mail server a
	// session every 5 minutes for good. An hour, not seconds: a server may
	// answer a mistake in the operator's settings (a relay or sender
	// check) in the same way, and the operator gets time to mend it.
	alertRefusedFor   = time.Hour
	alertRefusedTries = 3
)

// alertRetry decides what follows an alert's attempt-th failed sending,
// refused for good or not: when it is tried next, or the zero time when it
// is given up.
func alertRetry(attempt int, refused bool, created, now time.Time) time.Time {
	next := now.Add(alertRetryDelay(attempt))
	if refused && attempt >= alertRefusedTries && now.Sub(created) >= alertRefusedFor || next.Sub(created) > alertGiveUpAfter {
		return time.Time{}
	}
	return next
}

// queueDue takes the panel's free places in the mail queue for its due
// alerts and enqueues them. An alert it could not enqueue gives its place
// back; failures are logged, as the sweep comes round.
func queueDue(ctx context.Context, store *models.Store, enq *queue.Enqueuer, log *slog.Logger, panelID int64) {
	if enq == nil {
		return
	}
	ids, err := store.QueueDueAlerts(ctx, panelID, alertPlaces)
	for _, id := range ids {
		if err = enq.Alert(ctx, id); err != nil {
			_ = store.UnqueueAlert(ctx, id, store.Now(), "")
		}
	}
	if err != nil {
		log.WarnContext(ctx, "alert e-mails not queued; the sweep will queue them", "panel_id", panelID, "error", err)
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
	h := Parse(w.Health)
	if h.State == Healthy && !h.Alerted {
		return false
	}
	raw, _ := json.Marshal(h.Reset())
	if _, err := t.Store.SetHealth(ctx, w.ID, raw); err != nil {
		t.Log.ErrorContext(ctx, "health not reset", "webhook_id", w.ID, "error", err)
	}
	if h.Alerted {
		t.Alert(ctx, w, AlertRecovered, h, ThresholdsFor(w.HealthSettings, nil), released)
	}
	return true
}

// Rollup lets a degraded webhook that has gone quiet recover: its state
// only moves on requests, and without requests its window empties.
func (t *Tracker) Rollup(ctx context.Context) error {
	ws, err := t.Store.WebhooksInState(ctx, string(Degraded))
	if err != nil {
		return err
	}
	now := t.Store.Now()
	for i := range ws {
		w := &ws[i]
		h := Parse(w.Health)
		th := ThresholdsFor(w.HealthSettings, nil)
		attempts, failures := h.Window(th.Window.D(), now)
		if attempts >= th.DegradedMinAttempts && float64(failures) > th.DegradedRate*float64(attempts) {
			continue
		}
		alerted := h.Alerted
		h.State, h.Alerted = Healthy, false
		raw, _ := json.Marshal(h)
		if ok, err := t.Store.SetHealth(ctx, w.ID, raw); err != nil || !ok {
			continue // a worker is sending: it will judge on its own request
		}
		if alerted {
			t.Alert(ctx, w, AlertRecovered, h, th, 0)
		}
	}
	return nil
}

// SweepAlerts queues the due alerts of panels whose queue did not move
// on by itself (a task lost with Redis, a wake-up lost), a few panels a
// pass, going round them all; none while SMTP is not configured (NoMail).
// First it gives back the places of alerts whose task was lost.
func (t *Tracker) SweepAlerts(ctx context.Context) error {
	if t.NoMail {
		return nil
	}
	if _, err := t.Store.UnqueueLostAlerts(ctx, t.Store.Now().Add(-lostAlertTask)); err != nil {
		return err
	}
	panels, err := t.Store.PanelsWithDueAlerts(ctx, t.sweptTo.Load(), panelsPerSweep)
	if err != nil {
		return err
	}
	next := int64(0)
	if len(panels) == panelsPerSweep {
		next = panels[len(panels)-1]
	}
	t.sweptTo.Store(next)
	for _, panelID := range panels {
		queueDue(ctx, t.Store, t.Enqueuer, t.Log, panelID)
	}
	return nil
}

// panelsPerSweep is how many panels' alerts one sweep queues.
const panelsPerSweep = 200

// Alerter sends alert e-mails.
type Alerter struct {
	Store *models.Store
	// Enqueuer brings in the panel's next alerts once one is sent.
	Enqueuer *queue.Enqueuer
	Metrics  *metrics.Metrics
	Mailer   *mail.Mailer // nil: SMTP is not configured
	// PublicURL is where people reach Herald, for the link in the e-mail.
	PublicURL string
	Log       *slog.Logger
}

// alertView is what the templates show.
type alertView struct {
	State, Label, Panel, Endpoint, Link, Window, Rate, Since string
	// Stop is the link that stops the panel's alerts to the recipient.
	Stop               string
	Held               int64
	Attempts, Failures int
	Recent             []struct{ At, What string }
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
		a.sendNext(ctx, alert.PanelID)
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
	if len(alert.Recipients) > 0 {
		// Tried again for those an earlier attempt missed (a 4xx: a
		// greylisting server, say); those it reached do not get it twice.
		to = slices.DeleteFunc(to, func(r string) bool { return slices.Contains(alert.Recipients, r) })
		if len(to) == 0 {
			if err := a.Store.MarkAlert(ctx, id, alert.Recipients, nil, time.Time{}); err != nil {
				return err
			}
			a.sendNext(ctx, alert.PanelID)
			return nil
		}
	}
	if len(to) == 0 {
		a.Log.WarnContext(ctx, "alert has no recipients; add some under /api/v1/alert-recipients", "alert_id", id)
		if err := a.Store.MarkAlert(ctx, id, nil, nil, time.Time{}); err != nil {
			return err
		}
		a.sendNext(ctx, alert.PanelID)
		return nil
	}
	// A recipient stored before AddRecipient checked Mailable would fail
	// the whole message: the others still get it.
	if usable, left := models.SplitMailable(to); len(left) > 0 {
		a.Log.WarnContext(ctx, "alert recipients mail cannot be sent to are left out; replace them under /api/v1/alert-recipients",
			"alert_id", id, "left_out", len(left))
		if len(usable) == 0 {
			return a.failed(ctx, alert, errors.New("no recipient mail can be sent to (replace them under /api/v1/alert-recipients)"), true)
		}
		to = usable
	}
	if a.Mailer == nil {
		// Kept unsent: once HERALD_SMTP_URL is set, the sweep sends it.
		// Not an attempt: counted, it would space out the first real
		// retries once a mail server is set.
		_ = a.Store.UnqueueAlert(ctx, id, a.Store.Now(), "SMTP is not configured (HERALD_SMTP_URL)")
		a.Log.WarnContext(ctx, "alert not sent: HERALD_SMTP_URL is not set", "alert_id", id)
		return nil
	}
	subject, copyFor, err := a.render(ctx, alert)
	if err != nil {
		return a.failed(ctx, alert, fmt.Errorf("the e-mail cannot be written: %w", err), false)
	}
	// Each recipient gets a copy of their own: an address the mail server
	// refuses keeps the alert from nobody else, and each copy's link stops
	// the alerts to that address only.
	sent, missed, sendErr := a.Mailer.SendEachWith(ctx, to, subject, copyFor)
	// What went out is recorded even if the task's time ran out meanwhile:
	// unrecorded, its retry would send every copy again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	refused := mail.AllRefused(missed)
	if len(sent) == 0 && (len(alert.Recipients) == 0 || !refused) {
		return a.failed(ctx, alert, sendErr, refused)
	}
	// Reached someone, now or before: whom it missed is noted, and those
	// it may yet reach (not refused for good) keep it unsent for them.
	var missedErr error
	if len(missed) > 0 {
		// Kept as the alert's last error. Those refused for good are not
		// tried again: the one who reads it can mend the address.
		missedErr = mail.MissedError(missed)
		a.Log.WarnContext(ctx, "alert e-mail not sent to some recipients", "alert_id", id, "missed", len(missed), "error", missedErr)
		if !refused {
			return a.partly(ctx, alert, sent, missedErr)
		}
	}
	sent = append(slices.Clone(alert.Recipients), sent...)
	if err := a.Store.MarkAlert(ctx, id, sent, missedErr, time.Time{}); err != nil {
		return err
	}
	metrics.OrNop(a.Metrics).AlertsSent.WithLabelValues(alert.State).Inc()
	a.Log.InfoContext(ctx, "alert e-mail sent", "alert_id", id, "webhook_id", alert.WebhookID, "state", alert.State, "recipients", len(sent))
	a.sendNext(ctx, alert.PanelID)
	return nil
}

// failed records a failed sending: the alert leaves the mail queue and
// waits for its next attempt (alertRetry), when a wake-up of its panel
// (TypeAlertsDue) queues it again, and the panel's next alert takes its
// place. A mail server outage delays alerts but loses none. One refused
// for good (refused) for an hour, or still failing a day after it was
// written, is given up: it stays unsent, with its last error.
func (a *Alerter) failed(ctx context.Context, alert *models.Alert, sendErr error, refused bool) error {
	retryAt := alertRetry(alert.Attempts+1, refused, alert.CreatedAt, a.Store.Now())
	if err := a.Store.MarkAlert(ctx, alert.ID, nil, sendErr, retryAt); err != nil {
		return err
	}
	if retryAt.IsZero() {
		a.Log.WarnContext(ctx, "alert e-mail not sent; given up", "alert_id", alert.ID, "attempts", alert.Attempts+1, "error", sendErr)
		metrics.OrNop(a.Metrics).AlertsGivenUp.Inc()
	} else {
		a.Log.WarnContext(ctx, "alert e-mail not sent; will retry", "alert_id", alert.ID, "retry_at", retryAt, "error", sendErr)
		a.wakeAt(ctx, alert, retryAt)
	}
	a.sendNext(ctx, alert.PanelID)
	return nil
}

// partly records an alert that reached some recipients (sent: those this
// attempt reached) and missed others for a reason that may pass: it waits
// for its next attempt (alertRetry), for those it missed, as a failed
// alert does.
func (a *Alerter) partly(ctx context.Context, alert *models.Alert, sent []string, missed error) error {
	retryAt := alertRetry(alert.Attempts+1, false, alert.CreatedAt, a.Store.Now())
	if err := a.Store.MarkAlertPartly(ctx, alert.ID, sent, missed, retryAt); err != nil {
		return err
	}
	if retryAt.IsZero() {
		a.Log.WarnContext(ctx, "alert e-mail not sent to some recipients; given up", "alert_id", alert.ID, "error", missed)
		metrics.OrNop(a.Metrics).AlertsGivenUp.Inc()
	}
	a.wakeAt(ctx, alert, retryAt)
	a.sendNext(ctx, alert.PanelID)
	return nil
}

// wakeAt asks for the panel's alerts due at retryAt to be queued then;
// nothing when the alert was given up (retryAt zero).
func (a *Alerter) wakeAt(ctx context.Context, alert *models.Alert, retryAt time.Time) {
	if retryAt.IsZero() || a.Enqueuer == nil {
		return
	}
	if err := a.Enqueuer.AlertsDue(ctx, alert.PanelID, retryAt); err != nil {
		a.Log.WarnContext(ctx, "alert retry not scheduled; the sweep will queue it", "alert_id", alert.ID, "error", err)
	}
}

// sendNext queues the panel's next due alerts in the places free.
func (a *Alerter) sendNext(ctx context.Context, panelID int64) {
	queueDue(ctx, a.Store, a.Enqueuer, a.Log, panelID)
}

// HandleAlertsDue queues a panel's due alerts (TypeAlertsDue).
func (a *Alerter) HandleAlertsDue(ctx context.Context, t *asynq.Task) error {
	panelID, err := strconv.ParseInt(string(t.Payload()), 10, 64)
	if err != nil {
		return fmt.Errorf("alerts due: bad payload: %w", asynq.SkipRetry)
	}
	a.sendNext(ctx, panelID)
	return nil
}

func (a *Alerter) render(ctx context.Context, alert *models.Alert) (subject string, copyFor func(to string) mail.Copy, err error) {
	t, err := templates.Mail()
	if err != nil {
		return "", nil, err
	}
	var d alertDetails
	if err := json.Unmarshal(alert.Details, &d); err != nil {
		return "", nil, err
	}
	panel, err := a.Store.PanelByID(ctx, alert.PanelID)
	if err != nil {
		return "", nil, err
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
	// Rendered once here, so a template error fails the alert rather than
	// a copy; each recipient's copy is then the same but for its link.
	v.Stop = mail.StopMark
	text, html, err := t.Render(v)
	if err != nil {
		return "", nil, err
	}
	return subject, mail.WithStopLink(text, html, OptOutLinks(a.Store, a.PublicURL, alert.PanelID)), nil
}

// OptOutPathPrefix starts the link in each alert e-mail that stops the
// panel's alerts to that address (the UI serves it; the token is
// models.Store.OptOutToken's).
const OptOutPathPrefix = "/alert-recipients/stop/"

// OptOutLinks gives each recipient of a panel's alerts its own link that
// stops them, on the Herald at base.
func OptOutLinks(store *models.Store, base string, panelID int64) func(to string) string {
	return func(to string) string { return base + OptOutPathPrefix + store.OptOutToken(panelID, to) }
}
