package browsertest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// The template editor: choosing the template format shows the editor, the
// preview renders the sample event with the server's engine as the
// template is typed, a broken template is named by line and column, and a
// tested template is saved with the hmac-sha256 scheme.
func TestWebhookTemplateEditorPreview(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	signIn(t, ctx, env, email, password)

	submit(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/webhooks/new"]`)))
	hidden := func() bool {
		return get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("[data-template-editor]").hidden`))
	}
	require.True(t, hidden(), "the form format needs no editor")
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("label"), "Braze events"),
		chromedp.SendKeys(chromedp.ID("url"), recv.URL+"/braze"),
		chromedp.SetValue(chromedp.ID("body_format"), models.BodyTemplate),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("body_format").dispatchEvent(new Event("change", {bubbles: true}))`),
	)
	require.False(t, hidden(), "the template format shows the editor")

	do(t, ctx, chromedp.SendKeys(chromedp.ID("body_template"), `{"email": {{ contact.email | json }},`+"\n"+` "event": {{ event.name | json }}}`))
	waitText(t, ctx, "[data-template-preview]", `{"email": "test.user@example.com",`+"\n"+` "event": "open"}`)
	require.Equal(t, "Content-Type: application/json", text(t, ctx, "[data-preview-type]"))
	shot(t, ctx, "webhook-template-preview")

	// A broken template: the preview names the line and the column.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("body_template"), "\n{{ event.name | shout }}"))
	waitText(t, ctx, "[data-preview-error]", "line 3, column 1")
	require.Empty(t, get(t, ctx, chromedp.Evaluate[string](`document.querySelector("[data-template-preview]").textContent`)))
	shot(t, ctx, "webhook-template-error")
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const el = document.getElementById("body_template");
		el.value = el.value.replace("\n{{ event.name | shout }}", ""); el.dispatchEvent(new Event("input", {bubbles: true})); })()`))
	waitText(t, ctx, "[data-template-preview]", `"event": "open"}`)

	// Save needs a test of the template; the test renders it for real.
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("signature_scheme"), models.SignatureHMAC),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("signature_scheme").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.Click(chromedp.CSS(`[data-test]`)),
	)
	waitText(t, ctx, "[data-result-badge]", "passed")
	got := recv.All()[len(recv.All())-1]
	require.Equal(t, "{\"email\": \"test.user@example.com\",\n \"event\": \"open\"}", string(got.Body), "LF as typed, not the textarea's CR LF") //nolint:testifylint // exact bytes
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))

	// An edited template needs a new test.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("body_template"), " "))
	require.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("[data-save]").disabled`)), "the template is tested")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("body_template"), "\b"))
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-save]`)))
	waitText(t, ctx, "h1 .badge", "active")
	loc := get(t, ctx, chromedp.Location())
	id, err := strconv.ParseInt(loc[strings.LastIndex(loc, "/")+1:], 10, 64)
	require.NoError(t, err, loc)
	w, err := env.Store.Webhook(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	require.Equal(t, models.BodyTemplate, w.BodyFormat)
	require.Equal(t, models.SignatureHMAC, w.SignatureScheme)
	require.Equal(t, "{\"email\": {{ contact.email | json }},\n \"event\": {{ event.name | json }}}", w.BodyTemplate) //nolint:testifylint // a template, kept as typed
	waitText(t, ctx, `[aria-labelledby="settings-h"] dl.facts`, "Liquid template, application/json")

	// The edit form shows the saved template and its preview.
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.page-head a[href$="/edit"]`)))
	waitText(t, ctx, "[data-template-preview]", `"email": "test.user@example.com"`)
	shot(t, ctx, "webhook-template-edit")
}
