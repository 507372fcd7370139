package browsertest

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// Subscribing a webhook to event names in the UI: the panel's recent event
// names are offered as checkboxes, narrower subscriptions are typed a line
// each, a bad line is refused next to the box, and the page shows what was
// saved.
func TestSubscribeWebhookInUI(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Visitor events", recv.URL, nil)
	key := env.IngestKey()
	for _, name := range []string{"NEW_VISIT", "NEW_VISITOR"} {
		code, raw := env.Ingest(key, "web", map[string]any{"event": name}, "")
		require.Equal(t, 200, code, raw)
	}
	signIn(t, ctx, env, email, password)

	edit := env.URL + "/webhooks/" + strconv.FormatInt(id, 10) + "/edit"
	submit(t, ctx, chromedp.Navigate(edit))
	visit := `input[name=subscribe][value="NEW_VISIT"]`
	require.False(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('`+visit+`').checked`)), "offered, not checked")
	require.True(t, get(t, ctx, chromedp.Evaluate[bool](`!!document.querySelector('input[name=subscribe][value="NEW_VISITOR"]')`)))
	do(t, ctx,
		chromedp.Click(chromedp.CSS(visit)),
		chromedp.SendKeys(chromedp.ID("subscription_lines"), "click | sorce=esp"),
		chromedp.Click(chromedp.CSS(`[data-save]`)),
	)
	waitText(t, ctx, `[data-error-for="subscriptions"]`, `Line 1: "sorce=esp" is neither source=… nor channel=…`)
	shot(t, ctx, "webhook-subscriptions-refused")

	do(t, ctx,
		chromedp.SetValue(chromedp.ID("subscription_lines"), "click | source=esp | channel=email"),
		chromedp.Click(chromedp.CSS(`[data-save]`)),
	)
	waitText(t, ctx, "[data-subscriptions]", "click from esp on email")
	require.Equal(t, "NEW_VISIT, click from esp on email", text(t, ctx, "[data-subscriptions]"))
	shot(t, ctx, "webhook-subscriptions")

	w, err := env.Store.Webhook(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	spec, err := env.Store.Spec(w)
	require.NoError(t, err)
	require.Equal(t, []models.Subscription{{Event: "NEW_VISIT"}, {Event: "click", Source: "esp", Channel: "email"}}, spec.Subscriptions)
	require.Equal(t, models.StatusActive, w.Status, "subscriptions need no new test")

	// Editing again: the saved ones come back checked and typed.
	submit(t, ctx, chromedp.Navigate(edit))
	require.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('`+visit+`').checked`)))
	require.Equal(t, "click | source=esp | channel=email",
		get(t, ctx, chromedp.Evaluate[string](`document.getElementById("subscription_lines").value`)))
}
