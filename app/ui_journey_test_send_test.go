package app_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// A webhook step is test-sent to one contact from the builder: the
// endpoint gets the step's item with the contact's real data, marked as a
// test; no delivery, run or stat counts it; the answer is shown; refused
// input is named at the field, and a panel may send only so many a minute.
//
//nolint:paralleltest // the subtests post with one session and spend the panel's test-send budget, counted after them
func TestUIJourneyTestSend(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	recv.Answer = func(int, *apptest.Request) apptest.Answer {
		return apptest.Answer{Status: 200, Body: `{"ok": "received"}`}
	}
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	hook := env.ActiveWebhook("CRM", recv.URL, nil)
	var j struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Cart", "nodes": [
		{"id": "t", "type": "trigger", "event": "Added to Cart", "next": "w"},
		{"id": "w", "type": "webhook", "webhook_id": %d, "att_params": ["FIRSTNAME", "CITY"], "udt_params": ["orders"],
		 "custom_params": {"Action": "cart"}, "next": "s"},
		{"id": "s", "type": "stop"}]}`, hook), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	var contact struct{ ID int64 }
	code, raw = env.Call("POST", "/api/v1/contacts",
		`{"email": "zoe@example.com", "external_id": "cust-77", "attributes": {"firstname": "Zoe", "city": "Oslo"}}`, &contact)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.Call("PUT", fmt.Sprintf("/api/v1/contacts/%d/data/orders", contact.ID), `{"rows": [{"sku": "A-1", "qty": 2}]}`, nil)
	require.Equal(t, http.StatusOK, code, raw)
	path := "/journeys/" + itoa(j.ID)

	builder := ui.Get(path + "?step=w")
	require.Contains(t, builder.Body, `action="`+path+`/steps/w/test-send"`)
	require.NotContains(t, ui.Get(path+"?step=t").Body, "/test-send", "only a webhook step has it")

	res := ui.Post(path+"/steps/w/test-send", url.Values{"contact": {"cust-77"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	require.Equal(t, path+"?step=w#step-form-test", res.Location)
	page := ui.Get(path + "?step=w")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `<span class="badge ok">delivered</span>`)
	require.Contains(t, page.Body, `HTTP 200 in`)
	require.Contains(t, page.Body, `{&#34;ok&#34;: &#34;received&#34;}`, "the response excerpt")
	require.Contains(t, page.Body, `value="cust-77"`)

	all := recv.All()
	require.Len(t, all, 2, "the activation test and the test-send")
	sent := all[1]
	require.True(t, sent.Test, "marked as a test")
	item := sent.Items[0]
	require.Equal(t, "Added to Cart", item["event"])
	require.Equal(t, "Cart", item["journey_name"])
	require.Equal(t, map[string]any{"FIRSTNAME": "Zoe", "CITY": "Oslo"}, item["att_params"], "the contact's real data")
	require.Equal(t, map[string]any{"orders": []any{map[string]any{"sku": "A-1", "qty": float64(2)}}}, item["udt_params"])
	require.Equal(t, map[string]any{"Action": "cart"}, item["custom_params"])
	require.Empty(t, recv.Requests(), "nothing but tests reached the endpoint")

	var deliveries struct{ Deliveries []any }
	code, raw = env.Call("GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", hook), nil, &deliveries)
	require.Equal(t, http.StatusOK, code, raw)
	require.Empty(t, deliveries.Deliveries, "no delivery row")
	var stats struct {
		Nodes map[string]struct{ Entered, Sent int }
	}
	code, raw = env.Call("GET", fmt.Sprintf("/api/v1/journeys/%d/stats", j.ID), nil, &stats)
	require.Equal(t, http.StatusOK, code, raw)
	require.Zero(t, stats.Nodes["w"].Entered, "not counted in the journey's stats")
	require.Zero(t, stats.Nodes["w"].Sent)
	var runs struct{ Runs []any }
	code, raw = env.Call("GET", fmt.Sprintf("/api/v1/journeys/%d/runs", j.ID), nil, &runs)
	require.Equal(t, http.StatusOK, code, raw)
	require.Empty(t, runs.Runs, "no run")

	// A failing endpoint looks failing.
	recv.Answer = func(int, *apptest.Request) apptest.Answer { return apptest.Answer{Status: 500, Body: "boom"} }
	page = ui.Submit(path+"/steps/w/test-send", url.Values{"contact": {"zoe@example.com"}})
	require.Contains(t, page.Body, `<span class="badge bad">failed</span>`)
	require.Contains(t, page.Body, "HTTP 500")
	require.Contains(t, page.Body, "boom")

	// Refused input, at the field; a rival's contact is not this panel's.
	rival := env.TokenFor("rival")
	code, raw = env.CallAs(rival, "POST", "/api/v1/contacts", `{"email": "rivalry@example.com"}`, nil)
	require.Equal(t, http.StatusOK, code, raw)
	for _, tc := range []struct{ name, who, want string }{
		{"nobody", "", "Name the contact by e-mail, phone or external id."},
		{"unknown", "nobody@example.com", "No contact of this panel has this e-mail, phone or external id."},
		{"another panel's", "rivalry@example.com", "No contact of this panel has this e-mail, phone or external id."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := ui.Submit(path+"/steps/w/test-send", url.Values{"contact": {tc.who}})
			require.Equal(t, http.StatusBadRequest, page.Status)
			require.Contains(t, page.Body, `data-error-for="contact" >`+tc.want+`</p>`)
		})
	}
	page = ui.Submit(path+"/steps/t/test-send", url.Values{"contact": {"zoe@example.com"}})
	require.Equal(t, http.StatusBadRequest, page.Status)
	require.Contains(t, page.Body, "Only a webhook step sends anything to test")
	require.Len(t, recv.All(), 3, "refused tests sent nothing")

	// Ten tries a minute per panel (a contact named counts, found or not):
	// five were made, five more may be.
	for range 5 {
		require.Equal(t, http.StatusOK, ui.Submit(path+"/steps/w/test-send", url.Values{"contact": {"zoe@example.com"}}).Status)
	}
	res = ui.Post(path+"/steps/w/test-send", url.Values{"contact": {"zoe@example.com"}}, nil)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	page = ui.Follow(res)
	require.Equal(t, http.StatusTooManyRequests, page.Status)
	require.Contains(t, page.Body, "This panel sent 10 tests in the last minute")
	require.Len(t, recv.All(), 8)
}

// Another panel's journey cannot be test-sent: it is "not found".
func TestUIJourneyTestSendIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	rival := env.TokenFor("rival")
	var w, j struct{ ID int64 }
	code, raw := env.CallAs(rival, "POST", "/api/v1/webhooks", map[string]any{"label": "Rival hook", "url": recv.URL}, &w)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.CallAs(rival, "POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Rival", "nodes": [
		{"id": "t", "type": "trigger", "event": "open", "next": "w"},
		{"id": "w", "type": "webhook", "webhook_id": %d, "next": "s"}, {"id": "s", "type": "stop"}]}`, w.ID), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "mine@example.com"}`, nil)
	require.Equal(t, http.StatusOK, code, raw)
	res := ui.Post(fmt.Sprintf("/journeys/%d/steps/w/test-send", j.ID), url.Values{"contact": {"mine@example.com"}}, nil)
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Empty(t, recv.All(), "nothing sent")
}

// A templated webhook step's test-send renders the real contact, as its
// deliveries would: all its attributes, hashed with hash_pii; the
// webhook's own test renders the sample contact.
//
//nolint:paralleltest // the subtests post with one session, whose stash holds one test-send at a time
func TestUIJourneyTestSendTemplate(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	tpl := `{"city": {{ contact.CITY | json }}, "email": {{ contact.email | json }}, "event": {{ event.name | json }}}`
	plain, hashed := apptest.NewReceiver(t), apptest.NewReceiver(t)
	plainHook := env.ActiveWebhook("Plain template", plain.URL, map[string]any{"body_format": "template", "body_template": tpl})
	hashedHook := env.ActiveWebhook("Hashed template", hashed.URL, map[string]any{"body_format": "template", "body_template": tpl,
		"hash_pii": true})
	sample := decodeJSON(t, plain.All()[0].Body).(map[string]any)
	require.Equal(t, models.SampleContact()["email"], sample["email"], "the webhook's test renders the sample contact")
	var j struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Templates", "nodes": [
		{"id": "t", "type": "trigger", "event": "Added to Cart", "next": "p"},
		{"id": "p", "type": "webhook", "webhook_id": %d, "next": "h"},
		{"id": "h", "type": "webhook", "webhook_id": %d, "next": "s"},
		{"id": "s", "type": "stop"}]}`, plainHook, hashedHook), &j)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "zoe@example.com", "attributes": {"city": "Oslo"}}`, nil)
	require.Equal(t, http.StatusOK, code, raw)
	path := "/journeys/" + itoa(j.ID)

	for _, tc := range []struct {
		name, step string
		recv       *apptest.Receiver
		email      string
	}{
		{"plain", "p", plain, "zoe@example.com"},
		{"hashed with hash_pii", "h", hashed, fmt.Sprintf("%x", sha256.Sum256([]byte("zoe@example.com")))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := ui.Submit(path+"/steps/"+tc.step+"/test-send", url.Values{"contact": {"zoe@example.com"}})
			require.Contains(t, page.Body, `<span class="badge ok">delivered</span>`)
			all := tc.recv.All()
			require.Len(t, all, 2, "the activation test and the test-send")
			require.JSONEq(t, fmt.Sprintf(`{"city": "Oslo", "email": %q, "event": "Added to Cart"}`, tc.email), string(all[1].Body))
		})
	}
}
