package ui

import (
	"time"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// healthCard is what the webhook page's health card shows: the failure
// tracker's view, the last answer, what waits and what people were told.
type healthCard struct {
	health.Health
	// LastAttempt is the latest request to the endpoint; nil before the first.
	LastAttempt *models.Attempt
	// NextRetry is when the earliest delivery that failed is due again.
	NextRetry time.Time
	Held      int64
	Alerts    []alertRow
}

// alertRow is one alert of the history: what, when, to whom, and whether
// it went out or why not.
type alertRow struct {
	models.AlertEntry
	What    string
	Outcome string
	Tone    string
	// Sent: it reached at least one recipient.
	Sent bool
	// Retry is when a sending that failed is tried again; zero when none
	// is coming.
	Retry time.Time
	// GivenUp: it is not tried again (refused for good, or a day old).
	GivenUp bool
}

// alertWords name the alert states for people.
var alertWords = map[string]string{
	string(health.AlertDegraded):  "Failing often",
	string(health.AlertDisabled):  "Disabled",
	string(health.AlertRecovered): "Recovered",
}

// newAlertRow says what became of an alert at now: sent to its
// recipients (or some of them, and whom it missed), kept unsent (and why:
// no mail server, or it failed, and when it is tried again or that it was
// given up), or sent to nobody.
func newAlertRow(e models.AlertEntry, now time.Time) alertRow {
	r := alertRow{AlertEntry: e, What: alertWords[e.State]}
	if r.What == "" {
		r.What = e.State
	}
	reached := e.Recipients != ""
	switch {
	case reached && e.LastError == "":
		r.Sent, r.Outcome, r.Tone = true, "sent", "ok"
	case reached: // whom it missed; tried again for them while unsent
		r.Sent, r.Outcome, r.Tone = true, e.LastError, "warn"
	case e.SentAt != nil:
		r.Outcome, r.Tone = "not sent: nobody gets alert e-mail", "warn"
	case e.LastError != "":
		r.Outcome, r.Tone = "not sent: "+e.LastError, "bad"
	default:
		r.Outcome, r.Tone = "waiting to be sent", "muted"
	}
	if e.SentAt == nil && e.LastError != "" {
		switch {
		case e.NextAttemptAt == nil && e.Attempts > 0:
			r.GivenUp = true
		case e.NextAttemptAt != nil && e.NextAttemptAt.After(now):
			r.Retry = *e.NextAttemptAt
		}
	}
	return r
}

func alertRows(es []models.AlertEntry, now time.Time) []alertRow {
	out := make([]alertRow, len(es))
	for i, e := range es {
		out[i] = newAlertRow(e, now)
	}
	return out
}

// testBeforeOutage says whether t, the last test shown, ran before w was
// disabled by the failure tracker: it does not count for enabling w again
// (only a test passed after disabled_at does).
func testBeforeOutage(w *models.Webhook, t *models.WebhookTest) bool {
	return t != nil && w.DisabledAt != nil && !t.CreatedAt.After(*w.DisabledAt)
}
