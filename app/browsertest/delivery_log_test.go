package browsertest

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// The delivery log as a person uses it: search by a contact's e-mail (the
// URL can be shared), open a delivery's attempt timeline, tick a failed
// one and replay it, and watch the list refresh itself, then pause that.
func TestDeliveryLogSearchTimelineReplay(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	var fixed atomic.Bool
	recv.Answer = func(_ int, r *apptest.Request) apptest.Answer {
		for _, it := range r.Items {
			if props, _ := it["properties"].(map[string]any); props["order"] == "bad" && !fixed.Load() {
				return apptest.Answer{Status: http.StatusUnprocessableEntity, Body: `{"error": "unknown order"}`}
			}
		}
		return apptest.Answer{Status: http.StatusOK, Body: "ok"}
	}
	hook := env.ActiveWebhook("Orders", recv.URL, map[string]any{"batch_size": 1, "batch_wait_ms": 0,
		"subscriptions": []any{map[string]any{"event": "order_paid"}}})
	key := env.IngestKey()
	for _, ev := range []map[string]any{
		{"event": "order_paid", "event_id": "ann-1", "user": map[string]any{"email": "ann@example.com"}, "properties": map[string]any{"order": "A-1"}},
		{"event": "order_paid", "event_id": "ann-2", "user": map[string]any{"email": "ann@example.com"}, "properties": map[string]any{"order": "bad"}},
		{"event": "order_paid", "event_id": "bob-1", "user": map[string]any{"email": "bob@example.com"}, "properties": map[string]any{"order": "B-1"}},
	} {
		code, raw := env.Ingest(key, "shop", ev, "")
		require.Equal(t, http.StatusOK, code, raw)
	}
	var failed models.Delivery
	require.Eventually(t, func() bool {
		return env.Store.DBForTest().Take(&failed, "webhook_id = ? AND status = 'failed'", hook).Error == nil
	}, 20*time.Second, 50*time.Millisecond, "the bad order failed")
	recv.WaitFor(t, 20*time.Second, "two delivered", func() bool { return len(recv.Delivered()) == 2 })
	failedID := models.DeliveryID(failed.ID)
	page := env.URL + "/webhooks/" + strconv.FormatInt(hook, 10)

	signIn(t, ctx, env, email, password)
	do(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("f-q")),
		chromedp.SendKeys(chromedp.ID("f-q"), "ann@example.com"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	waitText(t, ctx, "[data-search-result]", "Deliveries about contact ann@example.com")
	require.Contains(t, get(t, ctx, chromedp.Location()), "q=ann%40example.com", "a search is a URL to share")
	rows := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr[data-delivery]")].map((r) => r.dataset.delivery)`))
	require.Len(t, rows, 2, "Ann's two orders, not Bob's")
	require.Contains(t, text(t, ctx, "table.log tbody"), "order_paid")
	shot(t, ctx, "delivery-log-search")

	// The failed one's timeline in the log's drawer: opened from its row
	// with the keyboard, the search kept, focus on the drawer's heading.
	row := `tr[data-delivery="` + failedID + `"]`
	do(t, ctx, chromedp.Focus(chromedp.CSS(row+` a[data-open-drawer]`)))
	submit(t, ctx, chromedp.KeyEvent("\r"))
	waitText(t, ctx, "aside.drawer #timeline", "HTTP 422")
	require.Contains(t, text(t, ctx, "aside.drawer #timeline"), `{"error": "unknown order"}`)
	require.Contains(t, text(t, ctx, "#delivery-h"), failedID)
	loc := get(t, ctx, chromedp.Location())
	require.Contains(t, loc, "q=ann%40example.com", "the search is kept")
	require.Contains(t, loc, "delivery="+failedID)
	require.Equal(t, "delivery-h", get(t, ctx, chromedp.Evaluate[string](`document.activeElement.id`)), "focus on the drawer's heading")
	require.Len(t, get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr[data-delivery]")].map((r) => r.dataset.delivery)`)),
		2, "the log behind the drawer, as searched")
	box := get(t, ctx, chromedp.Evaluate[[2]float64](`(() => { const r = document.querySelector("aside.drawer").getBoundingClientRect(); return [r.left, r.width]; })()`))
	require.Greater(t, box[0], 0.0, "a side panel on a laptop")
	require.Less(t, box[1], float64(laptop[0])/2)
	shot(t, ctx, "delivery-drawer")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	box = get(t, ctx, chromedp.Evaluate[[2]float64](`(() => { const r = document.querySelector("aside.drawer").getBoundingClientRect(); return [r.left, r.width]; })()`))
	require.Equal(t, [2]float64{0, float64(tablet[0])}, box, "the full width on a tablet")
	shot(t, ctx, "delivery-drawer-tablet")
	do(t, ctx, chromedp.EmulateViewport(laptop[0], laptop[1]))

	// Tab from the heading reaches Close; it closes the drawer, back at the row.
	do(t, ctx, chromedp.KeyEvent("\t"))
	require.Equal(t, "Close the delivery", get(t, ctx, chromedp.Evaluate[string](`document.activeElement.textContent`)))
	submit(t, ctx, chromedp.KeyEvent("\r"))
	waitText(t, ctx, "[data-search-result]", "ann@example.com")
	require.Zero(t, get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("aside.drawer").length`)), "closed")
	require.NotContains(t, get(t, ctx, chromedp.Location()), "delivery=")
	require.True(t, strings.HasSuffix(get(t, ctx, chromedp.Location()), "#row-"+failedID))

	// The delivery's own page still shows the same timeline.
	do(t, ctx, chromedp.Navigate(page+"/deliveries/"+failedID), chromedp.WaitVisible(chromedp.CSS("h1")))
	waitText(t, ctx, "#timeline", "HTTP 422")
	require.Contains(t, text(t, ctx, "h1"), failedID)
	shot(t, ctx, "delivery-timeline")
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.page-head a.button`)))
	do(t, ctx, chromedp.Navigate(page+"?q=ann%40example.com#logs"), chromedp.WaitVisible(chromedp.CSS("[data-search-result]")))

	// Tick it and replay the selection.
	fixed.Store(true)
	do(t, ctx, chromedp.Click(chromedp.CSS(row+` input[type=checkbox]`)))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`#replay-selected button[type=submit]`)))
	waitText(t, ctx, ".flash", "Queued 1 delivery for replay.")
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, failedID)

	// The list refreshes by itself (every 10 s) and shows it delivered.
	waitText(t, ctx, row, "delivered")
	get(t, ctx, chromedp.Poll[bool](`document.querySelector("[data-log-refresh]").dataset.refreshedAt !== undefined`,
		chromedp.WithPollingTimeout(25*time.Second)))
	require.True(t, strings.HasPrefix(text(t, ctx, "[data-refresh-state]"), "Updated"))
	do(t, ctx, chromedp.Click(chromedp.CSS("[data-refresh-toggle]")))
	require.Equal(t, "Auto-refresh paused.", text(t, ctx, "[data-refresh-state]"))
	require.Equal(t, "true", get(t, ctx, chromedp.Evaluate[string](`document.querySelector("[data-refresh-toggle]").getAttribute("aria-pressed")`)))
	shot(t, ctx, "delivery-log")

	// A browser that prefers reduced motion gets the log paused, until asked.
	do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}}})
		return err
	}), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("[data-refresh-toggle]")))
	require.Equal(t, "Auto-refresh paused.", text(t, ctx, "[data-refresh-state]"))
	require.Equal(t, "Resume auto-refresh", text(t, ctx, "[data-refresh-toggle]"))

	// The same log on a tablet.
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table.log")))
	shot(t, ctx, "delivery-log-tablet")
}
