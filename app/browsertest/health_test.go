package browsertest

import (
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// The receiver's moods, in the order the walk goes through them.
const (
	answerOK       = iota
	answerThrottle // 429 with Retry-After: an hour (a 4xx: the failure tracker counts it)
	answerDown     // 500
)

// A failing endpoint looks failing at once, its page tells the story, and
// once it is disabled one button recovers it and its held events arrive
// in the order they came. Screenshots: the list, the health card, the
// banner and the alert history.
func TestFailingEndpointRecoversInOneStep(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{})
	env.User(email, password)
	var mood atomic.Int32
	recv := apptest.NewReceiver(t)
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		if r.Test {
			if mood.Load() == answerOK {
				return apptest.Answer{Status: http.StatusOK}
			}
			return apptest.Answer{Status: http.StatusInternalServerError, Body: "still down"}
		}
		switch mood.Load() {
		case answerThrottle:
			return apptest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "3600", Body: "slow down"}
		case answerDown:
			return apptest.Answer{Status: http.StatusInternalServerError, Body: "down"}
		}
		return apptest.Answer{Status: http.StatusOK, Body: "ok"}
	}
	hook := env.ActiveWebhook("Orders", recv.URL, map[string]any{"batch_size": 1, "batch_wait_ms": 0, "strict_disable": true})
	page := env.URL + "/webhooks/" + strconv.FormatInt(hook, 10)
	signIn(t, ctx, env, email, password)
	waitText(t, ctx, "table.list tbody", "active")

	// Break the endpoint: one request answered 429 and the next page
	// load shows the webhook failing.
	mood.Store(answerThrottle)
	first := env.Deliver(hook, map[string]any{"order": "A"})
	waitAttempts(t, env, hook, 1)
	do(t, ctx, chromedp.Navigate(env.URL+"/webhooks"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	require.Equal(t, "failing", text(t, ctx, "table.list tbody .badge"))
	require.Contains(t, get(t, ctx, chromedp.AttributeValue(chromedp.CSS("table.list tbody .badge"), "title")).Value, "its last request failed")
	shot(t, ctx, "list-failing")

	// Its page: the health card, and the delivery waiting for its retry.
	do(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("health")))
	require.Equal(t, "1", text(t, ctx, "#health [data-consecutive]"))
	require.Contains(t, text(t, ctx, "#health [data-last-answer]"), "HTTP 429")
	require.Regexp(t, `^\d\d:\d\d UTC$`, text(t, ctx, "#health [data-next-retry]"))
	require.Regexp(t, `^· next at \d\d:\d\d UTC \(attempt 2 of 9\)$`, text(t, ctx, "table.log [data-retry]"))
	require.Contains(t, text(t, ctx, "table.log tbody"), "retrying")
	shot(t, ctx, "health-card")

	// The endpoint goes down: the retry, due now, gets a 500 and the
	// webhook (disable at the first 5xx) is disabled; what follows is held.
	mood.Store(answerDown)
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE deliveries SET next_attempt_at = now() WHERE webhook_id = ?`, hook).Error)
	require.NoError(t, env.Enqueuer.Flush(t.Context(), hook, 0))
	waitWebhookStatus(t, env, hook, models.StatusDisabled)
	more := env.Deliver(hook, map[string]any{"order": "B"}, map[string]any{"order": "C"})
	held := slices.Concat(first, more)
	env.WaitStatus(20*time.Second, models.DeliveryHeld, held...)

	do(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("recover")))
	require.Equal(t, "disabled", text(t, ctx, ".page-head h1 .badge"))
	require.Equal(t, "3 events held — Test now and re-enable", text(t, ctx, "#recover h2"))
	require.Equal(t, "before the outage", text(t, ctx, "[data-before-outage]"), "the test that activated it is labelled")
	require.Contains(t, text(t, ctx, "#health [data-held]"), "3 events")
	shot(t, ctx, "recovery-banner")

	// Still down: the button says so and changes nothing.
	submit(t, ctx, chromedp.Click(chromedp.CSS(`#recover button[type=submit]`)))
	waitText(t, ctx, ".flash", "Still failing: the test got HTTP 500")
	require.Equal(t, "disabled", text(t, ctx, ".page-head h1 .badge"))

	// Fixed: one press tests, re-enables and releases, in order.
	mood.Store(answerOK)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`#recover button[type=submit]`)))
	waitText(t, ctx, ".flash", "Test passed (HTTP 200). “Orders” is active again and sends its 3 events held, oldest first.")
	recv.WaitDelivered(t, 20*time.Second, held)
	require.Equal(t, held, recv.Delivered(), "the held events arrive in the order they came")
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, held...)

	// The alerts were recorded, and the page says they were not sent.
	do(t, ctx, chromedp.Navigate(env.URL+"/settings#alert-recipients"), chromedp.WaitVisible(chromedp.CSS("table.alert-history")))
	waitText(t, ctx, "[data-mail-off]", "alerts are recorded, not sent")
	history := text(t, ctx, "table.alert-history tbody")
	require.Contains(t, history, "Disabled")
	require.Contains(t, history, "Orders")
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/settings/test-alert"] button`)))
	waitText(t, ctx, ".flash", "No test alert sent: e-mail is not configured")
	shot(t, ctx, "alert-history")
}

// waitAttempts waits until the webhook has made n requests.
func waitAttempts(t *testing.T, env *apptest.Env, hook int64, n int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		var got int64
		require.NoError(t, env.Store.DBForTest().Model(&models.Attempt{}).Where("webhook_id = ?", hook).Count(&got).Error)
		return got >= n
	}, 20*time.Second, 20*time.Millisecond, "waiting for %d requests", n)
}

// waitWebhookStatus waits until the webhook has the status.
func waitWebhookStatus(t *testing.T, env *apptest.Env, hook int64, want models.WebhookStatus) {
	t.Helper()
	require.Eventually(t, func() bool {
		w, err := env.Store.Webhook(t.Context(), env.Panel.ID, hook)
		require.NoError(t, err)
		return w.Status == want
	}, 20*time.Second, 20*time.Millisecond, "waiting for status %s", want)
}
