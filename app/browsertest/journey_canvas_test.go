package browsertest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// The README's abandoned cart, for Canadians: added to cart, no order
// within the wait → webhook.
const canadianCart = `{"name": "Abandoned cart", "nodes": [
  {"id": "t", "type": "trigger", "event": "Cart Updated",
   "filters": [{"attribute": "COUNTRY", "op": "eq", "value": "Canada"}], "next": "w"},
  {"id": "w", "type": "wait_for_event", "event": "Placed Order", "within": "2s", "happened": "s", "timeout": "h"},
  {"id": "h", "type": "webhook", "webhook_id": %d, "custom_params": {"Action": "Cart abandoned"}, "next": "s"},
  {"id": "s", "type": "stop"}]}`

// One contact orders in time, one does not: the canvas shows 2 entered,
// one on each exit of the wait and the webhook sent once; a step is
// opened from the canvas with the keyboard. A third contact's cart, kept
// out by the filter, is explained on the contact page.
func TestJourneyCanvasAndWhyNot(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	env := apptest.Start(t, apptest.Options{})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Cart Webhook", recv.URL, map[string]any{"batch_wait_ms": 0})
	id := env.LiveJourney(fmt.Sprintf(canadianCart, hook))
	key := env.IngestKey()
	ingest := func(event, who, country string) {
		code, raw := env.Ingest(key, "shop", map[string]any{"event": event,
			"user": map[string]any{"email": who, "country": country}}, "")
		require.Equal(t, 200, code, raw)
	}
	ingest("Cart Updated", "leaves@example.com", "Canada")
	ingest("Cart Updated", "buys@example.com", "Canada")
	env.WaitRuns(id, "waiting", 2)
	ingest("Placed Order", "buys@example.com", "Canada")
	ingest("Cart Updated", "eli@example.com", "India")
	env.WaitRuns(id, "completed", 2)
	recv.WaitFor(t, 10*time.Second, "the abandoned cart", func() bool { return len(recv.Delivered()) == 1 })

	// The delivery's status is written just after the receiver answered.
	require.Eventually(t, func() bool {
		var stats struct{ Nodes map[string]struct{ Sent int } }
		env.Call("GET", fmt.Sprintf("/api/v1/journeys/%d/stats", id), nil, &stats)
		return stats.Nodes["h"].Sent == 1
	}, 10*time.Second, 20*time.Millisecond)

	signIn(t, ctx, env, email, password)
	page := env.URL + "/journeys/" + strconv.FormatInt(id, 10)
	do(t, ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(`svg.canvas`)))
	require.Contains(t, svgText(t, ctx, "#node-t"), "2 entered")
	require.Contains(t, svgText(t, ctx, "#node-w"), "2 entered")
	require.Contains(t, svgText(t, ctx, "#node-w"), "0 waiting now")
	labels := get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("svg.canvas .edge-label")].map(e => e.textContent)`))
	require.Contains(t, labels, "happened · 1")
	require.Contains(t, labels, "timed out · 1")
	require.Contains(t, svgText(t, ctx, "#node-h"), "1 sent")
	// Steps are headed by their label, as in the builder's drop-downs; the id stays in element ids.
	require.Equal(t, "Webhook: “Cart Webhook”", svgText(t, ctx, "#node-h .node-kind"))
	require.Equal(t, "Wait for event: Placed Order", svgText(t, ctx, "#node-w .node-kind"))
	require.Contains(t, svgText(t, ctx, "#node-h"), "0 failed · 0 held")
	shot(t, ctx, "canvas-desktop")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	shot(t, ctx, "canvas-tablet")
	do(t, ctx, chromedp.EmulateViewport(laptop[0], laptop[1]))

	// The steps are links: focused and entered from the keyboard, the wait's form opens.
	do(t, ctx, chromedp.Focus(chromedp.CSS(`#node-w a.node-link`)))
	submit(t, ctx, chromedp.KeyEvent("\r"))
	waitText(t, ctx, "#side-h", "Wait for event")

	// A count links to the runs behind it.
	do(t, ctx, chromedp.Navigate(page+"/runs?node=s"), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	require.Len(t, get(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tbody tr")].map(e => e.textContent)`)), 2)

	// Why did Eli's cart not start the journey?
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/contacts"]`)),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), "eli@example.com"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[role=search] button[type=submit]`)))
	waitText(t, ctx, "#why", `Abandoned cart live:`)
	require.Contains(t, text(t, ctx, "#why"), `did not enter — filter COUNTRY eq "Canada" failed: the contact's COUNTRY is "India".`)
	require.Contains(t, text(t, ctx, "#attrs-h + dl"), "India")
	shot(t, ctx, "contact-desktop")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	shot(t, ctx, "contact-tablet")
}

// svgText is the text of an SVG element (which has no innerText).
func svgText(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return get(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.textContent ?? "(none)"`, css)))
}
