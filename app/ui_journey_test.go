package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// The builder edits journeys by the API's rules: what Check refuses is
// reported next to the field and not stored.
func TestUIJourneyBuilder(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)

	res := ui.Submit("/journeys", url.Values{"name": {"Cart recovery"}, "event": {""}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, `data-error-for="event" >A trigger needs exactly one of event, segment or list.</p>`)
	res = ui.Post("/journeys", url.Values{"name": {"Cart recovery"}, "event": {"Added to Cart"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	path := res.Location
	load := func() *journey.Definition {
		var j struct{ Nodes []journey.Node }
		code, raw := env.Call("GET", "/api/v1"+path, nil, &j)
		require.Equal(t, http.StatusOK, code, raw)
		return &journey.Definition{Nodes: j.Nodes}
	}

	// A webhook step needs an active webhook to start on.
	res = ui.Submit(path+"/steps", url.Values{"after": {"start"}, "type": {"webhook"}})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Body, "A webhook step needs an active webhook")
	hook := env.ActiveWebhook("Cart Webhook", recv.URL, nil)

	// trigger → wait → stop; then a webhook on the wait's timeout exit.
	res = ui.Post(path+"/steps", url.Values{"after": {"start"}, "type": {"wait_for_event"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Contains(t, res.Location, "step=wait")
	res = ui.Post(path+"/steps", url.Values{"after": {"wait"}, "exit": {"timeout"}, "type": {"webhook"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	def := load()
	require.Equal(t, "wait", def.Node("start").Next)
	require.Equal(t, "end", def.Node("wait").Happened)
	require.Equal(t, "hook", def.Node("wait").Timeout)
	require.Equal(t, "end", def.Node("hook").Next)
	require.Equal(t, hook, def.Node("hook").WebhookID)

	// A bad waiting period is refused next to its field, and not stored.
	wait := url.Values{"event": {"Placed Order"}, "channel": {""}, "within_number": {"soon"}, "within_unit": {"minutes"},
		"happened": {"end"}, "timeout": {"hook"}}
	res = ui.Submit(path+"/steps/wait", wait)
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, `data-error-for="within" >Must be a number, such as 30 or 1.5.</p>`)
	require.Contains(t, res.Body, `value="Placed Order"`, "what was typed stays in the form")
	require.NotContains(t, res.Body, "Wait up to soon", "the refused value is not in the step's summary")
	require.Equal(t, "open", load().Node("wait").Event)
	wait.Set("within_number", "30")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps/wait", wait, nil).Status)

	// The webhook step, with a filter on the trigger.
	hookForm := url.Values{"webhook_id": {itoa(hook)}, "event_params": {"timestamp", "email"}, "event_params_other": {"items"},
		"att_params": {"EMAIL"}, "att_params_other": {"loyalty_tier"}, "custom_key": {"Action", ""}, "custom_value": {"Cart abandoned", ""},
		"next": {"end"}}
	var preview struct{ Preview string }
	res = ui.Post(path+"/steps/hook/preview", hookForm, http.Header{"Accept": {"application/json"}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &preview))
	require.Contains(t, preview.Preview, `"acme_prod": [`)
	require.Contains(t, preview.Preview, `"LOYALTY_TIER": null`)
	require.Contains(t, preview.Preview, `"Action": "Cart abandoned"`)
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps/hook", hookForm, nil).Status)
	trigger := url.Values{"event": {"Added to Cart"}, "channel": {""}, "next": {"wait"},
		"filter_kind": {"attribute", "property"}, "filter_name": {"country", "items.0.sku"}, "filter_op": {"in", "exists"},
		"filter_value": {"Canada, India", ""}}
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps/start", trigger, nil).Status)
	def = load()
	require.Equal(t, []journey.Filter{{Attribute: "COUNTRY", Op: "in", Value: []any{"Canada", "India"}}, {Property: "items.0.sku", Op: "exists"}},
		def.Node("start").Filters)
	require.Equal(t, []string{"timestamp", "email", "items"}, def.Node("hook").EventParams)
	require.Equal(t, []string{"EMAIL", "LOYALTY_TIER"}, def.Node("hook").AttParams)

	// Settings: a reentry that cannot be read is refused.
	res = ui.Submit(path, url.Values{"name": {"Cart recovery"}, "reentry": {"after"}, "reentry_after_number": {"a day"},
		"reentry_after_unit": {"days"}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, `data-error-for="reentry" >Must be a number, such as 30 or 1.5.</p>`)
	require.Equal(t, http.StatusSeeOther, ui.Post(path, url.Values{"name": {"Cart recovery"}, "reentry": {"after"},
		"reentry_after_number": {"24"}, "reentry_after_unit": {"hours"}}, nil).Status)

	// Deleting the wait joins the trigger to what the wait led on to.
	require.Equal(t, http.StatusConflict, ui.Submit(path+"/steps/end/delete", url.Values{}).Status, "steps lead to the stop")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps/wait/delete", url.Values{}, nil).Status)
	def = load()
	require.Nil(t, def.Node("wait"))
	require.Equal(t, "hook", def.Node("start").Next)

	// Publish; a live journey is read-only until paused.
	res = ui.Post(path+"/publish", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	page := ui.Get(path)
	require.Contains(t, page.Body, "This journey is live: pause it to change its steps.")
	res = ui.Post(path+"/steps/hook", hookForm, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Contains(t, ui.Get(path).Body, "A live journey cannot be edited; pause it first.")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/pause", url.Values{}, nil).Status)
	require.Contains(t, ui.Get(path).Body, ">paused<")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/stop", url.Values{}, nil).Status)
	j, err := env.Store.ListJourneys(context.Background(), env.Panel.ID, models.JourneysAll)
	require.NoError(t, err)
	require.Equal(t, "stopped", string(j[0].Status))
}

// The trigger's side form starts a journey on an activity, a segment or a
// list, offering the panel's segments and lists by name; publishing checks
// the one chosen.
func TestUIJourneyTriggerOnSegmentOrList(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	var seg, list struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/segments", map[string]any{"name": "Canadians",
		"filters": []map[string]any{{"attribute": "COUNTRY", "op": "eq", "value": "Canada"}}}, &seg)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Call("POST", "/api/v1/lists", map[string]any{"name": "VIP"}, &list)
	require.Equal(t, http.StatusCreated, code, raw)
	other := env.TokenFor("other")
	code, raw = env.CallAs(other, "POST", "/api/v1/segments", map[string]any{"name": "Not yours",
		"filters": []map[string]any{{"attribute": "CITY", "op": "eq", "value": "Pune"}}}, nil)
	require.Equal(t, http.StatusCreated, code, raw)

	res := ui.Post("/journeys", url.Values{"name": {"Welcome"}, "event": {"Signed Up"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	path := res.Location
	form := ui.Get(path + "?step=start").Body
	require.Contains(t, form, fmt.Sprintf(`<option value="%d" >Canadians</option>`, seg.ID))
	require.Contains(t, form, fmt.Sprintf(`<option value="%d" >VIP</option>`, list.ID))
	require.NotContains(t, form, "Not yours", "another panel's segment is not offered")

	trigger := func(v url.Values) *journey.Node {
		v.Set("next", "end")
		res := ui.Post(path+"/steps/start", v, nil)
		require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
		var j struct{ Nodes []journey.Node }
		env.Call("GET", "/api/v1"+path, nil, &j)
		return (&journey.Definition{Nodes: j.Nodes}).Node("start")
	}
	n := trigger(url.Values{"trigger_kind": {"segment"}, "segment": {fmt.Sprint(seg.ID)}, "event": {"Signed Up"}})
	require.Equal(t, seg.ID, n.Segment)
	require.Empty(t, n.Event)
	require.Contains(t, ui.Get(path).Body, "A contact comes to match the segment “Canadians”")
	n = trigger(url.Values{"trigger_kind": {"list"}, "list": {fmt.Sprint(list.ID)}})
	require.Equal(t, list.ID, n.List)
	require.Zero(t, n.Segment)

	res = ui.Submit(path+"/steps/start", url.Values{"trigger_kind": {"segment"}, "segment": {""}, "next": {"end"}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, `data-error-for="segment" >Pick a segment.</p>`)

	n = trigger(url.Values{"trigger_kind": {"segment"}, "segment": {"999999"}})
	require.EqualValues(t, 999999, n.Segment)
	res = ui.Submit(path+"/publish", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "segment 999999 does not exist")
}

// A webhook step's side form sets the exits by the delivery's outcome and
// the fields to save from the response; the steps show the exits by name,
// and a save the webhook cannot serve (batched) is refused at its field.
func TestUIJourneyWebhookAnswer(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	single := env.ActiveWebhook("Scorer", recv.URL, map[string]any{"batch_size": 1})
	batched := env.ActiveWebhook("Batched", recv.URL, nil)
	res := ui.Post("/journeys", url.Values{"name": {"Lead scoring"}, "event": {"Signed Up"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	path := res.Location
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps", url.Values{"after": {"start"}, "type": {"webhook"}}, nil).Status)
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps", url.Values{"after": {"hook"}, "type": {"stop"}}, nil).Status)

	form := url.Values{"webhook_id": {itoa(batched)}, "next": {"end2"}, "delivered": {""}, "failed": {"end"},
		"save_path": {"data.score", ""}, "save_attribute": {"score", ""}}
	res = ui.Submit(path+"/steps/hook", form) // refused: back to the form, which answers 400
	require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
	require.Contains(t, res.Body, `data-error-for="save" >Saving from the response needs webhook &#34;Batched&#34; to send one event per request (batch_size 1); it sends up to 100.</p>`)
	require.Contains(t, res.Body, `value="data.score"`, "what was typed stays in the form")

	form.Set("webhook_id", itoa(single))
	res = ui.Post(path+"/steps/hook", form, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	var j struct{ Nodes []journey.Node }
	code, raw := env.Call("GET", "/api/v1"+path, nil, &j)
	require.Equal(t, http.StatusOK, code, raw)
	def := &journey.Definition{Nodes: j.Nodes}
	h := def.Node("hook")
	require.Equal(t, "end2", h.Next)
	require.Empty(t, h.Delivered)
	require.Equal(t, "end", h.Failed)
	require.Equal(t, []journey.SaveRule{{Path: "data.score", Attribute: "SCORE"}}, h.Save)

	page := ui.Get(path + "?step=hook")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `<span>if delivered → <a href="#step-end2">Stop (end2)</a></span>`)
	require.Contains(t, page.Body, `<span>if it fails for good → <a href="#step-end">Stop (end)</a></span>`)
	require.Contains(t, page.Body, "waits for the answer and saves SCORE")
	require.Contains(t, page.Body, `<option value="end" selected>Stop (end)</option>`)
	require.Contains(t, page.Body, `name="save_path" aria-label="Response field (dotted path)" placeholder="data.score" value="data.score"`)
}

// The step forms show and edit a wait's property filters and a webhook
// step's data tables; a refused value is named at its field.
func TestUIJourneyWaitFiltersAndUDTParams(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	hook := env.ActiveWebhook("Clicks", recv.URL, nil)
	res := ui.Post("/journeys", url.Values{"name": {"Offer clicks"}, "event": {"open"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	path := res.Location
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps", url.Values{"after": {"start"}, "type": {"wait_for_event"}}, nil).Status)
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps", url.Values{"after": {"wait"}, "type": {"webhook"}}, nil).Status)
	load := func() *journey.Definition {
		var j struct{ Nodes []journey.Node }
		code, raw := env.Call("GET", "/api/v1"+path, nil, &j)
		require.Equal(t, http.StatusOK, code, raw)
		return &journey.Definition{Nodes: j.Nodes}
	}

	page := ui.Get(path + "?step=wait")
	require.Contains(t, page.Body, `<option value="property" selected>property</option>`, "a wait's new filter row filters properties")

	wait := url.Values{"event": {"click"}, "channel": {"email"}, "within_number": {"1"}, "within_unit": {"hours"}, "happened": {"hook"}, "timeout": {"end"},
		"filter_kind": {"attribute", ""}, "filter_name": {"country", ""}, "filter_op": {"eq", "eq"}, "filter_value": {"Canada", ""}}
	res = ui.Submit(path+"/steps/wait", wait)
	require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
	require.Contains(t, res.Body, `data-error-for="filters" >`)
	require.Contains(t, res.Body, "a wait filters the awaited event")
	require.Empty(t, load().Node("wait").Filters, "a refused filter is not stored")

	wait["filter_kind"], wait["filter_name"], wait["filter_value"] = []string{"property", ""}, []string{"url", ""}, []string{"https://shop.example/offer", ""}
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps/wait", wait, nil).Status)

	hookForm := url.Values{"webhook_id": {itoa(hook)}, "next": {"end"}, "udt_params": {"orders, bad name"}}
	res = ui.Submit(path+"/steps/hook", hookForm)
	require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
	require.Contains(t, res.Body, `data-error-for="udt_params" >`)
	require.Contains(t, res.Body, `value="orders, bad name"`, "what was typed stays in the form")
	hookForm.Set("udt_params", "orders, loyalty")
	require.Equal(t, http.StatusSeeOther, ui.Post(path+"/steps/hook", hookForm, nil).Status)

	def := load()
	require.Equal(t, []journey.Filter{{Property: "url", Op: "eq", Value: "https://shop.example/offer"}}, def.Node("wait").Filters)
	require.Equal(t, []string{"orders", "loyalty"}, def.Node("hook").UDTParams)
	page = ui.Get(path + "?step=wait")
	require.Contains(t, page.Body, "Wait up to 1 hour for click on Email where url eq https://shop.example/offer")
	require.Contains(t, page.Body, `name="filter_name" list="filter-names" aria-label="Name" placeholder="COUNTRY" value="url"`)
	require.Contains(t, page.Body, "data tables orders, loyalty")
	page = ui.Get(path + "?step=hook")
	require.Contains(t, page.Body, `name="udt_params" value="orders, loyalty"`)
}
