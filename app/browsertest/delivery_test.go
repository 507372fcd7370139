package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// Read what happened to deliveries on the webhook's page: the charts, the
// event as sent, a failed one with the receiver's answer, and its replay.
func TestReadDeliveriesAndReplay(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		for _, it := range r.Items {
			if it["order"] == "bad" {
				return apptest.Answer{Status: http.StatusUnprocessableEntity, Body: `{"error": "unknown order"}`}
			}
		}
		return apptest.Answer{Status: http.StatusOK, Body: "ok"}
	}
	hook := env.ActiveWebhook("Orders", recv.URL, map[string]any{"batch_size": 1, "batch_wait_ms": 0})
	good := env.Deliver(hook, map[string]any{"order": "A-1001", "total": 42.5})
	bad := env.Deliver(hook, map[string]any{"order": "bad"})
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, good...)
	env.WaitStatus(20*time.Second, models.DeliveryFailed, bad...)

	signIn(t, ctx, env, email, password)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`table.list a.strong`)))
	waitText(t, ctx, "table.log tbody", "delivered")
	require.Len(t, get(t, ctx, chromedp.Nodes(chromedp.CSSAll("svg.chart"))), 3, "three charts")
	require.Contains(t, text(t, ctx, ".chart-card figcaption"), "1 delivered, 1 failed or retried")
	// Chart text is at least 12 px as drawn, and each chart has its numbers
	// as a table: open the first and add up the delivered column.
	smallest := get(t, ctx, chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("svg.chart text")].map(e => e.getBoundingClientRect().height ? parseFloat(getComputedStyle(e).fontSize) * e.getScreenCTM().a : 99))`))
	require.GreaterOrEqual(t, smallest, 12.0, "chart text as rendered, px")
	require.Len(t, get(t, ctx, chromedp.Nodes(chromedp.CSSAll(".chart-card details.chart-table"))), 3, "a table under each chart")
	do(t, ctx, chromedp.Click(chromedp.CSS(`.chart-card details.chart-table summary`)))
	waitText(t, ctx, `.chart-card details.chart-table[open] thead`, "delivered")
	delivered := get(t, ctx, chromedp.Evaluate[float64](`[...document.querySelectorAll(".chart-card details.chart-table[open] tbody td:nth-of-type(1)")].filter(td => td.getBoundingClientRect().height > 0).reduce((s, td) => s + parseFloat(td.textContent), 0)`))
	require.InDelta(t, 1.0, delivered, 1e-9, "the table's delivered per minute add up to the one delivery")
	shot(t, ctx, "webhook-page-chart-table")

	// The delivered one: open it and read the event as it was sent.
	row := fmt.Sprintf(`table.log summary[title=%q]`, good[0])
	do(t, ctx, chromedp.Click(chromedp.CSS(row)))
	waitText(t, ctx, `table.log details[open] pre.body`, `"order": "A-1001"`)
	require.Contains(t, text(t, ctx, `table.log details[open]`), good[0])
	shot(t, ctx, "webhook-page-deliveries")

	// The failed one shows the answer; filter to it, then replay it.
	do(t, ctx, chromedp.SetValue(chromedp.ID("f-status"), "failed"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	waitText(t, ctx, "table.log tbody", "HTTP 422")
	require.NotContains(t, text(t, ctx, "table.log tbody"), "delivered")
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`table.log summary[title=%q]`, bad[0]))))
	waitText(t, ctx, `table.log details[open]`, `{"error": "unknown order"}`)
	recv.Answer = nil // the receiver is fixed
	do(t, ctx, chromedp.Click(chromedp.CSS(`table.log details.confirm summary`)))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`table.log details.confirm[open] button[type=submit]`)))
	waitText(t, ctx, ".flash", "Sending 1 delivery again.")
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, bad...)

	do(t, ctx, chromedp.Navigate(env.URL+"/webhooks/"+strconv.FormatInt(hook, 10)+"?tab=attempts#logs"),
		chromedp.WaitVisible(chromedp.CSS("table.log")))
	waitText(t, ctx, "table.log tbody", "422")
	shot(t, ctx, "webhook-page-attempts")

	// The same page on a tablet.
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]), chromedp.Navigate(env.URL+"/webhooks/"+strconv.FormatInt(hook, 10)),
		chromedp.WaitVisible(chromedp.CSS("table.log")))
	shot(t, ctx, "webhook-page-tablet")
}

// A page on another site that posts a form to Herald (here: delete a
// webhook) is refused, although the browser sends the session cookie along.
func TestCrossSiteFormPostRefused(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Keep me", recv.URL, nil)
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = fmt.Fprintf(w, `<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="%s/webhooks/%d/delete"><button>Claim</button></form>
<script>document.getElementById("f").submit()</script>`, env.URL, hook)
	}))
	t.Cleanup(evil.Close)

	signIn(t, ctx, env, email, password)
	do(t, ctx, chromedp.Navigate(evil.URL))
	waitText(t, ctx, "main", "This form was sent from another site, so Herald refused it.")
	require.Equal(t, "Request refused · Herald", get(t, ctx, chromedp.Title()))
	shot(t, ctx, "cross-site-refused")
	_, err := env.Store.Webhook(t.Context(), env.Panel.ID, hook)
	require.NoError(t, err, "the webhook is still there")

	// The same post from Herald's own page goes through.
	do(t, ctx, chromedp.Navigate(env.URL+"/webhooks/"+strconv.FormatInt(hook, 10)),
		chromedp.Click(chromedp.CSS(`.page-head details.confirm summary.danger`)))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.page-head details.confirm[open] button.danger`)))
	waitText(t, ctx, ".flash", "Deleted “Keep me”.")
	_, err = env.Store.Webhook(t.Context(), env.Panel.ID, hook)
	require.ErrorIs(t, err, models.ErrNotFound)
}
