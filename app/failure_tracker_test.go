package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// trackerEnv is a Herald that mails alerts to an in-process SMTP server,
// with two panel-wide recipients.
func trackerEnv(t *testing.T) (*apptest.Env, *apptest.SMTP) {
	t.Helper()
	smtp := apptest.StartSMTP(t)
	cfg := smtp.Config
	env := apptest.Start(t, apptest.Options{Mail: &cfg})
	for _, email := range []string{"ops@example.com", "marketing@example.com"} {
		env.AgreedRecipient(env.Panel.ID, email, nil)
	}
	return env, smtp
}

type webhookState struct {
	Status string
	Health struct {
		State               string
		ConsecutiveFailures int `json:"consecutive_failures"`
	}
}

func state(env *apptest.Env, id int64) webhookState {
	var w webhookState
	env.Call("GET", hookPath(id, ""), nil, &w)
	return w
}

// An endpoint that keeps failing: the circuit opens, the probes fail, it is
// disabled with its events held; fixed and tested again, it comes back and
// the held events go out in order. One e-mail for the disable, one for the
// recovery.
func TestDisableHoldAndRecover(t *testing.T) {
	t.Parallel()
	env, smtp := trackerEnv(t)
	recv := apptest.NewReceiver(t)
	var down atomic.Bool
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if down.Load() && !r.Test {
			return apptest.Answer{Status: 500, Body: "database is down"}
		}
		return apptest.Answer{Status: 200}
	}
	id := env.ActiveWebhook("Orders Hook", recv.URL+"/in?token=secret", map[string]any{"batch_wait_ms": 0, "batch_size": 2,
		"health_settings": map[string]any{"pause_after_failures": 2, "disable_after": "1s"}})
	env.AgreedRecipient(env.Panel.ID, "hook-owner@example.com", &id)

	down.Store(true)
	ids := env.Deliver(id, items(4, "before")...)
	require.Eventually(t, func() bool { return state(env, id).Status == "disabled" }, 15*time.Second, 50*time.Millisecond)
	env.WaitStatus(5*time.Second, models.DeliveryHeld, ids...)
	reqs := len(recv.Requests())
	require.GreaterOrEqual(t, reqs, 3, "two failures open the circuit, then probes")

	// Disabled: new events are held too, and nothing more goes out.
	later := env.Deliver(id, items(2, "while-disabled")...)
	env.WaitStatus(time.Second, models.DeliveryHeld, later...)
	env.WaitSettled(10 * time.Second)
	require.Len(t, recv.Requests(), reqs)

	// Each recipient gets a copy of their own (an address the mail server
	// refuses then keeps it from nobody else).
	mails := smtp.WaitFor(t, 10*time.Second, 3)
	var to []string
	for _, m := range mails {
		require.Len(t, m.To, 1)
		to = append(to, m.To...)
	}
	require.ElementsMatch(t, []string{"hook-owner@example.com", "marketing@example.com", "ops@example.com"}, to)
	m := mails[0]
	require.Equal(t, `[Herald] Webhook "Orders Hook" has been disabled`, m.Subject)
	require.Equal(t, "herald@test.example", m.From)
	for _, fact := range []string{"failing since", "4 held", "acme_prod", "HTTP 500", "http://herald.test/webhooks/" + itoa(id), "Test"} {
		require.Contains(t, m.Text, fact)
		require.Contains(t, m.HTML, strings.Split(fact, "\n")[0])
	}
	require.NotContains(t, m.Text, "token=secret", "the e-mail never repeats a URL's query")

	// A test passed before the disable does not bring it back; one after does.
	code, raw := env.Call("POST", hookPath(id, "/activate"), nil, nil)
	require.Equal(t, http.StatusConflict, code, raw)
	down.Store(false)
	var res struct{ Passed bool }
	env.Call("POST", hookPath(id, "/test"), nil, &res)
	require.True(t, res.Passed)
	var back webhookState
	code, raw = env.Call("POST", hookPath(id, "/activate"), nil, &back)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "active", back.Status)
	require.Equal(t, "healthy", back.Health.State, "the answer shows the reset health")

	all := append(append([]string{}, ids...), later...)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, all...)
	require.Equal(t, all, recv.Delivered(), "held events go out in their original order")
	require.Equal(t, "healthy", state(env, id).Health.State)

	mails = smtp.WaitFor(t, 10*time.Second, 6) // a copy to each of the three, twice
	require.Equal(t, `[Herald] Webhook "Orders Hook" has recovered`, mails[3].Subject)
	require.Contains(t, mails[3].Text, "6 held events are going out")
}

func TestDegradedWarning(t *testing.T) {
	t.Parallel()
	env, smtp := trackerEnv(t)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n%2 == 0 {
			return apptest.Answer{Status: 502}
		}
		return apptest.Answer{Status: 200}
	}
	id := env.ActiveWebhook("Flaky Hook", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1,
		"health_settings": map[string]any{"degraded_min_attempts": 6, "pause_after_failures": 50}})
	ids := env.Deliver(id, items(6, "d")...)
	env.WaitStatus(15*time.Second, models.DeliveryDelivered, ids...)
	require.Equal(t, "degraded", state(env, id).Health.State)
	m := smtp.WaitFor(t, 10*time.Second, 1)[0]
	require.Equal(t, `[Herald] Webhook "Flaky Hook" is failing often`, m.Subject)
	require.Contains(t, m.Text, "of its last")
	require.Contains(t, m.Text, "HTTP 502")

	// More failures while degraded are no change of state: no more e-mail.
	more := env.Deliver(id, items(4, "e")...)
	env.WaitStatus(15*time.Second, models.DeliveryDelivered, more...)
	env.WaitSettled(10 * time.Second) // an alert's mail task would keep it busy
	require.Len(t, smtp.Mails(), 2, "the one alert's copies to the two recipients")
	var alerts struct{ Alerts []struct{ State string } }
	env.Call("GET", fmt.Sprintf("/api/v1/alerts?webhook_id=%d", id), nil, &alerts)
	require.Len(t, alerts.Alerts, 1)

	// Quiet for longer than the window: the roll-up lets it recover.
	env.Store.Clock.Advance(11 * time.Minute)
	require.NoError(t, env.Tracker.Rollup(context.Background()))
	require.Equal(t, "healthy", state(env, id).Health.State)
	m = smtp.WaitFor(t, 10*time.Second, 4)[2]
	require.Equal(t, `[Herald] Webhook "Flaky Hook" has recovered`, m.Subject)
}

// Strict mode disables on the first 5xx, without retrying; the batch is held.
func TestStrictDisable(t *testing.T) {
	t.Parallel()
	env, smtp := trackerEnv(t)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: 200}
		}
		return apptest.Answer{Status: 503}
	}
	id := env.ActiveWebhook("Strict Hook", recv.URL, map[string]any{"batch_wait_ms": 0, "strict_disable": true})
	ids := env.Deliver(id, items(3, "s")...)
	env.WaitStatus(10*time.Second, models.DeliveryHeld, ids...)
	require.Equal(t, "disabled", state(env, id).Status)
	require.Len(t, recv.Requests(), 1, "no retry in strict mode")
	m := smtp.WaitFor(t, 10*time.Second, 1)[0]
	require.Contains(t, m.Subject, "has been disabled")
	require.Contains(t, m.Text, "3 held")
}

// The mail server is down when the alert is due: the alert waits and goes
// out when it is back.
func TestAlertSurvivesSMTPOutage(t *testing.T) {
	t.Parallel()
	env, smtp := trackerEnv(t)
	smtp.Stop()
	recv := apptest.NewReceiver(t)
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			return apptest.Answer{Status: 200}
		}
		return apptest.Answer{Status: 500}
	}
	id := env.ActiveWebhook("Outage Hook", recv.URL, map[string]any{"batch_wait_ms": 0, "strict_disable": true})
	env.Deliver(id, items(1, "o")...)
	require.Eventually(t, func() bool {
		var alerts struct {
			Alerts []struct {
				Attempts      int
				LastError     string     `json:"last_error"`
				NextAttemptAt *time.Time `json:"next_attempt_at"`
			}
		}
		env.Call("GET", "/api/v1/alerts", nil, &alerts)
		return len(alerts.Alerts) == 1 && alerts.Alerts[0].Attempts >= 1 && alerts.Alerts[0].LastError != "" &&
			alerts.Alerts[0].NextAttemptAt != nil
	}, 10*time.Second, 50*time.Millisecond, "the first try fails while the server is down")
	require.Empty(t, smtp.Mails())
	smtp.Start()
	m := smtp.WaitFor(t, 20*time.Second, 1)[0]
	require.Contains(t, m.Subject, "Outage Hook")
}

// A disabled webhook with an automatic probe comes back by itself once its
// endpoint answers 200.
func TestAutomaticProbe(t *testing.T) {
	t.Parallel()
	env, smtp := trackerEnv(t)
	recv := apptest.NewReceiver(t)
	var down atomic.Bool
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if down.Load() {
			return apptest.Answer{Status: 503}
		}
		return apptest.Answer{Status: 200}
	}
	id := env.ActiveWebhook("Probed Hook", recv.URL, map[string]any{"batch_wait_ms": 0, "strict_disable": true, "auto_probe_minutes": 5})
	down.Store(true)
	ids := env.Deliver(id, items(2, "p")...)
	env.WaitStatus(10*time.Second, models.DeliveryHeld, ids...)
	ctx := context.Background()
	require.NoError(t, env.Prober.Run(ctx))
	require.Equal(t, "disabled", state(env, id).Status, "the probe failed")
	require.NoError(t, env.Prober.Run(ctx))
	require.Equal(t, "disabled", state(env, id).Status)

	down.Store(false)
	env.Store.Clock.Advance(6 * time.Minute) // the next probe is due
	require.NoError(t, env.Prober.Run(ctx))
	require.Equal(t, "active", state(env, id).Status)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	mails := smtp.WaitFor(t, 10*time.Second, 4) // a copy to each of the two, twice
	require.Contains(t, mails[2].Subject, "has recovered")
}

func TestAlertRecipientsAPI(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	for _, tc := range []struct {
		body   map[string]any
		status int
	}{
		{map[string]any{"email": "ops@example.com"}, 201},
		{map[string]any{"email": "OPS@example.com"}, 409},
		{map[string]any{"email": "nope"}, 400},
		{map[string]any{"email": "x@example.com", "webhook_id": 999}, 404},
	} {
		code, raw := env.Call("POST", "/api/v1/alert-recipients", tc.body, nil)
		require.Equal(t, tc.status, code, "%v: %s", tc.body, raw)
	}
	var list struct {
		AlertRecipients []struct{ ID int64 } `json:"alert_recipients"`
	}
	env.Call("GET", "/api/v1/alert-recipients", nil, &list)
	require.Len(t, list.AlertRecipients, 1)
	other := env.TokenFor("other")
	code, _ := env.CallAs(other, "DELETE", fmt.Sprintf("/api/v1/alert-recipients/%d", list.AlertRecipients[0].ID), nil, nil)
	require.Equal(t, 404, code)
	code, _ = env.Call("DELETE", fmt.Sprintf("/api/v1/alert-recipients/%d", list.AlertRecipients[0].ID), nil, nil)
	require.Equal(t, 204, code)

	code, raw := env.Call("PATCH", "/api/v1/settings", map[string]any{"health": map[string]any{"pause_after_failures": 3}, "ingest_rate_limit": 500}, nil)
	require.Equal(t, 200, code, raw)
	require.Contains(t, raw, `"pause_after_failures":3`)
	code, raw = env.Call("PATCH", "/api/v1/settings", map[string]any{"health": map[string]any{"pause_after": 3}}, nil)
	require.Equal(t, 400, code, raw)
	code, raw = env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "x", "url": "https://a.example", "health_settings": map[string]any{"window": "1s"}}, nil)
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "health_settings")
}

// Alerts of one webhook go out in the order they were written, even when
// the later one's task runs first: nobody reads "recovered" before
// "disabled".
func TestAlertsOfAWebhookGoOutInOrder(t *testing.T) {
	t.Parallel()
	env, smtp := trackerEnv(t)
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Ordered Hook", recv.URL, nil)
	ctx := context.Background()
	disabled, err := env.Store.QueueAlert(ctx, env.Panel.ID, id, "disabled", map[string]any{"Label": "Ordered Hook"})
	require.NoError(t, err)
	recovered, err := env.Store.QueueAlert(ctx, env.Panel.ID, id, "recovered", map[string]any{"Label": "Ordered Hook"})
	require.NoError(t, err)

	require.NoError(t, env.Enqueuer.Alert(ctx, recovered))
	refused := env.WaitTaskError(fmt.Sprintf("alert:%d", recovered))
	require.Contains(t, refused, fmt.Sprintf("waits for alert %d", disabled))
	require.Empty(t, smtp.Mails(), "the recovery went out before the disable")
	require.NoError(t, env.Enqueuer.Alert(ctx, disabled))
	mails := smtp.WaitFor(t, 15*time.Second, 4) // a copy to each of the two, twice
	require.Contains(t, mails[1].Subject, "has been disabled")
	require.Contains(t, mails[2].Subject, "has recovered")
}
