package browsertest

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// Build a journey in the builder (trigger → webhook → stop), pick the
// attributes the webhook step sends and watch the preview follow, see
// Publish refused next to the step while its webhook is out of service,
// then publish it.
func TestBuildAndPublishJourney(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Cart Webhook", recv.URL, nil)
	signIn(t, ctx, env, email, password)

	do(t, ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/journeys"]`)),
		chromedp.WaitVisible(chromedp.ID("j-name")),
		chromedp.SendKeys(chromedp.ID("j-name"), "Welcome clicks"),
		chromedp.SendKeys(chromedp.ID("j-event"), "open"),
		chromedp.SetValue(chromedp.ID("j-channel"), "email"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/journeys"] button[type=submit]`)))
	waitText(t, ctx, ".flash", "Journey created as a draft")
	loc := get(t, ctx, chromedp.Location())
	id, err := strconv.ParseInt(loc[strings.LastIndex(loc, "/")+1:], 10, 64)
	require.NoError(t, err, loc)

	// Add a webhook step after the trigger; its side form opens.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#step-start details.add-step summary`)),
		chromedp.SetValue(chromedp.ID("add-type-start"), "webhook"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`#step-start form.inline button`)))
	waitText(t, ctx, "#side-h", "Webhook")
	waitText(t, ctx, "[data-preview]", `"webhook_name": "Cart Webhook"`)
	require.NotContains(t, text(t, ctx, "[data-preview]"), "FIRSTNAME")

	// Ticking an attribute changes the preview at once, before saving.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`input[name=att_params][value=FIRSTNAME]`)),
		chromedp.Click(chromedp.CSS(`input[name=event_params][value=ip_addr]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-rows=custom] [name=custom_key]`), "Action"),
		chromedp.SendKeys(chromedp.CSS(`[data-rows=custom] [name=custom_value]`), "Email Open"),
	)
	waitText(t, ctx, "[data-preview]", `"FIRSTNAME": "Test"`)
	waitText(t, ctx, "[data-preview]", `"Action": "Email Open"`)
	waitText(t, ctx, "[data-preview]", `"ip_addr": "106.51.148.72"`)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)))
	waitText(t, ctx, ".flash", "Saved.")
	shot(t, ctx, "journey-builder")

	// Publishing checks the webhook is in service, and says so by the step.
	_, err = env.Store.DeactivateWebhook(t.Context(), env.Panel.ID, hook)
	require.NoError(t, err)
	publish := func() {
		do(t, ctx, chromedp.Click(chromedp.CSS(`.page-head details.confirm summary`)))
		submit(t, ctx, chromedp.Click(chromedp.CSS(`.page-head details.confirm[open] button[type=submit]`)))
	}
	publish()
	waitText(t, ctx, ".form-error", "cannot be published yet")
	waitText(t, ctx, "#step-hook .problems", "is not active")
	shot(t, ctx, "journey-publish-refused")

	_, _, err = env.Store.ActivateWebhook(t.Context(), env.Panel.ID, hook)
	require.NoError(t, err)
	do(t, ctx, chromedp.Navigate(env.URL+"/journeys/"+strconv.FormatInt(id, 10)), chromedp.WaitVisible(chromedp.CSS(".flow")))
	publish()
	waitText(t, ctx, ".flash", "is live")
	require.Equal(t, "live", text(t, ctx, "h1 .badge"))
	j, err := env.Store.Journey(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	require.Equal(t, models.JourneyLive, j.Status)
	var def journey.Definition
	require.NoError(t, json.Unmarshal(j.Definition, &def))
	n := def.Node("hook")
	require.Equal(t, []string{"EMAIL", "FIRSTNAME"}, n.AttParams)
	require.Equal(t, []string{"timestamp", "ts", "email", "ip_addr"}, n.EventParams)
	require.Equal(t, map[string]any{"Action": "Email Open"}, n.CustomParams)
	require.Equal(t, "hook", def.Node("start").Next, "trigger → webhook → stop")

	do(t, ctx, chromedp.Navigate(env.URL+"/journeys"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	require.Equal(t, "live", text(t, ctx, "table.list .badge"))
	shot(t, ctx, "journeys")
}

// A webhook step's answer in the side form: the run waits for the
// delivery, goes to a chosen step when it fails for good, and saves two
// fields of the JSON response (the second row added with its button); the
// steps then show the exits by name.
func TestJourneyWebhookAnswerForm(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	recv := apptest.NewReceiver(t)
	env.ActiveWebhook("Scorer", recv.URL, map[string]any{"batch_size": 1})
	id := env.LiveJourney(`{"name": "Lead scoring", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	code, raw := env.Call("POST", "/api/v1/journeys/"+strconv.FormatInt(id, 10)+"/pause", nil, nil)
	require.Equal(t, 200, code, raw)
	signIn(t, ctx, env, email, password)
	do(t, ctx, chromedp.Navigate(env.URL+"/journeys/"+strconv.FormatInt(id, 10)), chromedp.WaitVisible(chromedp.CSS(".flow")))

	// trigger → webhook → alert (a second stop) → end
	for _, add := range []struct{ after, kind string }{{"start", "webhook"}, {"hook", "stop"}} {
		do(t, ctx,
			chromedp.Click(chromedp.CSS(`#step-`+add.after+` details.add-step summary`)),
			chromedp.SetValue(chromedp.ID("add-type-"+add.after), add.kind),
		)
		submit(t, ctx, chromedp.Click(chromedp.CSS(`#step-`+add.after+` form.inline button`)))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".flow")))
	}
	do(t, ctx, chromedp.Navigate(env.URL+"/journeys/"+strconv.FormatInt(id, 10)+"?step=hook"), chromedp.WaitVisible(chromedp.ID("failed")))
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("next"), "end2"),
		chromedp.SetValue(chromedp.ID("failed"), "end"),
		chromedp.SendKeys(chromedp.CSS(`[data-rows=save] .save-row:nth-child(1) [name=save_path]`), "data.score"),
		chromedp.SendKeys(chromedp.CSS(`[data-rows=save] .save-row:nth-child(1) [name=save_attribute]`), "score"),
		chromedp.Click(chromedp.CSS(`button[data-add-row=save]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-rows=save] .save-row:nth-child(2) [name=save_path]`), "data.tier"),
		chromedp.SendKeys(chromedp.CSS(`[data-rows=save] .save-row:nth-child(2) [name=save_attribute]`), "TIER"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)))
	waitText(t, ctx, ".flash", "Saved.")
	waitText(t, ctx, "#step-hook .exits", "if delivered → Stop (end2)")
	waitText(t, ctx, "#step-hook .exits", "if it fails for good → Stop (end)")
	waitText(t, ctx, "#step-hook .step-summary", "waits for the answer and saves SCORE, TIER")
	shot(t, ctx, "journey-webhook-answer")

	j, err := env.Store.Journey(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	var def journey.Definition
	require.NoError(t, json.Unmarshal(j.Definition, &def))
	n := def.Node("hook")
	require.Equal(t, "end2", n.Next)
	require.Equal(t, "end", n.Failed)
	require.Empty(t, n.Delivered)
	require.Equal(t, []journey.SaveRule{{Path: "data.score", Attribute: "SCORE"}, {Path: "data.tier", Attribute: "TIER"}}, n.Save)
}

// A wait's period is typed as a number and a unit: the side form shows
// the stored one that way, a zero is refused at the field, and "30
// minutes" is saved as the API's "30m" and summarised in words, the steps
// named by what they do rather than by id.
func TestJourneyWaitInWords(t *testing.T) {
	t.Parallel()
	ctx := tab(t)
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	var created struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", `{"name": "Nudge", "nodes": [
	  {"id": "start", "type": "trigger", "event": "open", "channel": "email", "next": "w"},
	  {"id": "w", "type": "wait_for_event", "event": "click", "channel": "email", "within": "1h", "happened": "s", "timeout": "s"},
	  {"id": "s", "type": "stop"}]}`, &created)
	require.Equal(t, 201, code, raw)
	signIn(t, ctx, env, email, password)
	builder := env.URL + "/journeys/" + strconv.FormatInt(created.ID, 10)

	do(t, ctx, chromedp.Navigate(builder+"?step=w"), chromedp.WaitVisible(chromedp.ID("within_number")))
	shown := get(t, ctx, chromedp.Evaluate[[2]string](`[document.getElementById("within_number").value, document.getElementById("within_unit").value]`))
	require.Equal(t, [2]string{"1", "hours"}, shown, "the stored 1h, as a number and a unit")
	require.Contains(t, text(t, ctx, "#step-start .exits"), "then → Wait for event: Email click")

	do(t, ctx, chromedp.SetValue(chromedp.ID("within_number"), "0"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)))
	waitText(t, ctx, "#err-within", "Must be more than 0")

	do(t, ctx, chromedp.SetValue(chromedp.ID("within_number"), "30"), chromedp.SetValue(chromedp.ID("within_unit"), "minutes"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)))
	waitText(t, ctx, ".flash", "Saved.")
	waitText(t, ctx, "#step-w .step-summary", "Wait up to 30 minutes for click on Email")
	shot(t, ctx, "journey-wait-in-words")
	do(t, ctx, chromedp.EmulateViewport(tablet[0], tablet[1]))
	shot(t, ctx, "journey-wait-in-words-tablet")
	j, err := env.Store.Journey(t.Context(), env.Panel.ID, created.ID)
	require.NoError(t, err)
	var def journey.Definition
	require.NoError(t, json.Unmarshal(j.Definition, &def))
	require.Equal(t, "30m", def.Node("w").Within, "the API's format is kept")
}
