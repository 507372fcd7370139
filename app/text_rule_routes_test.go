package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// unstorableText is text PostgreSQL cannot store, as it is written inside
// a JSON string and in a form or query field.
var unstorableText = []struct{ name, inJSON, inForm string }{
	{"NUL", `\u0000`, "\x00"},
	{"lone surrogate", `\ud800`, "\xed\xa0\x80"}, // the only way a form can carry one
	{"not UTF-8", "\xff", "\xff"},
}

// Every admin route that reads a body, and the query string of one that
// reads it, answers text PostgreSQL cannot store with a 400 naming the
// field (before, about half of them answered 500, the others U+FFFD).
func TestAdminRoutesRefuseUnstorableText(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	hook := "/api/v1/webhooks/" + itoa(env.ActiveWebhook("Text rule", recv.URL, nil))
	var j, l struct{ ID int64 }
	const nodes = `"nodes": [{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]`
	code, raw := env.Call("POST", "/api/v1/journeys", `{"name": "J", `+nodes+`}`, &j)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Call("POST", "/api/v1/lists", map[string]any{"name": "L"}, &l)
	require.Equal(t, http.StatusCreated, code, raw)

	// BAD marks where the text goes.
	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/api/v1/webhooks", `{"label": "HookBAD", "url": "` + recv.URL + `"}`, "label"},
		{"POST", "/api/v1/webhooks/test", `{"label": "T", "url": "` + recv.URL + `", "description": "BAD"}`, "description"},
		{"PATCH", hook, `{"headers": [{"name": "X-A", "value": "vBAD"}]}`, "headers[0].value"},
		{"POST", hook + "/deliveries", `{"items": [{"order": {"id": 1, "note": "BAD"}}]}`, "items[0].order.note"},
		{"POST", hook + "/deliveries", `{"items": [{"ok": 1}, {"BAD": 1}]}`, "items[1]"},
		{"POST", hook + "/replay", `{"delivery_ids": ["BAD"]}`, "delivery_ids[0]"},
		{"POST", "/api/v1/ingest-keys", `{"label": "BAD"}`, "label"},
		{"POST", "/api/v1/journeys", `{"name": "JBAD", ` + nodes + `}`, "name"},
		{"PUT", "/api/v1/journeys/" + itoa(j.ID), `{"name": "J", "nodes": [{"id": "t", "type": "trigger", "event": "openBAD", "next": "s"}, {"id": "s", "type": "stop"}]}`, "nodes[0].event"},
		{"POST", "/api/v1/contacts", `{"email": "c@example.com", "attributes": {"CITY": "BAD"}}`, "attributes.CITY"},
		{"POST", "/api/v1/lists", `{"name": "BAD"}`, "name"},
		{"POST", "/api/v1/lists/" + itoa(l.ID) + "/members", `{"members": [{"email": "m@example.com", "attributes": {"KBAD": 1}}]}`, "members[0].attributes"},
		{"POST", "/api/v1/segments", `{"name": "S", "filters": [{"attribute": "CITY", "op": "eq", "value": "BAD"}]}`, "filters[0].value"},
		{"POST", "/api/v1/alert-recipients", `{"email": "aBAD@example.com"}`, "email"},
		{"PATCH", "/api/v1/settings", `{"health": {"window": "BAD"}}`, "health.window"},
		{"GET", "/api/v1/contacts?email=BAD", "", "email"},
		{"GET", "/api/v1/lists/" + itoa(l.ID) + "/members?page=BAD", "", "page"},
	} {
		for _, text := range unstorableText {
			t.Run(tc.method+" "+tc.path+" "+text.name, func(t *testing.T) {
				t.Parallel()
				path, body := tc.path, strings.ReplaceAll(tc.body, "BAD", text.inJSON)
				if tc.body == "" {
					path = strings.ReplaceAll(path, "BAD", url.QueryEscape(text.inForm))
				}
				var out struct{ Error, Field string }
				code, raw := env.Call(tc.method, path, body, &out)
				require.Equal(t, http.StatusBadRequest, code, raw)
				require.Equal(t, tc.field, out.Field, raw)
				require.Contains(t, out.Error, "text must be UTF-8 without NUL characters or unpaired UTF-16 surrogates", raw)
			})
		}
	}
}

// Every UI form answers text PostgreSQL cannot store with a 400 page that
// names the field (or with the JSON error when the page's script asks).
func TestUIFormsRefuseUnstorableText(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	hook := "/webhooks/" + itoa(env.ActiveWebhook("Text rule", recv.URL, nil))
	var j struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", `{"name": "J", "nodes": [{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]}`, &j)
	require.Equal(t, http.StatusCreated, code, raw)
	journey := "/journeys/" + itoa(j.ID)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)

	// BAD marks the field that gets the text.
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/login", url.Values{"email": {"BAD"}, "password": {uiPassword}}},
		{"/panel", url.Values{"panel": {"BAD"}}},
		{"/webhooks", webhookForm("BAD", recv.URL)},
		{"/webhooks/test", webhookForm("BAD", recv.URL)},
		{hook, webhookForm("BAD", recv.URL)},
		{hook + "/test", webhookForm("BAD", recv.URL)},
		{hook + "/replay", url.Values{"delivery_id": {"BAD"}}},
		{"/journeys", url.Values{"name": {"BAD"}, "event": {"open"}}},
		{journey, url.Values{"name": {"BAD"}, "reentry": {"never"}}},
		{journey + "/steps", url.Values{"type": {"wait"}, "after": {"BAD"}}},
		{journey + "/steps/t", url.Values{"event": {"BAD"}}},
		{journey + "/steps/t/preview", url.Values{"event": {"BAD"}}},
		{journey + "/steps/t/test-send", url.Values{"contact": {"BAD"}}},
		{"/lists", url.Values{"name": {"BAD"}}},
		{"/segments", url.Values{"name": {"S"}, "filter_kind": {"attribute"}, "filter_name": {"CITY"}, "filter_op": {"eq"}, "filter_value": {"BAD"}}},
		{"/settings/ingest-keys", url.Values{"label": {"BAD"}}},
		{"/settings/users", url.Values{"email": {"BAD"}, "password": {uiPassword}}},
		{"/settings/alert-recipients", url.Values{"email": {"BAD"}}},
	} {
		var field string
		for name, vs := range tc.form {
			if vs[0] == "BAD" {
				field = name
			}
		}
		for _, text := range unstorableText {
			t.Run(tc.path+" "+text.name, func(t *testing.T) {
				t.Parallel()
				form := url.Values{}
				for k, vs := range tc.form {
					form[k] = append([]string(nil), vs...)
				}
				form[field] = []string{"x" + text.inForm}
				res := ui.Post(tc.path, form, nil)
				require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
				require.Contains(t, res.Body, "&#34;"+field+"&#34; holds", "the page names the field")

				// The page's script (Test, Save, preview) gets JSON.
				req, err := http.NewRequest("POST", env.URL+tc.path, strings.NewReader(form.Encode()))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Accept", "application/json")
				resp, err := ui.Client.Do(req)
				require.NoError(t, err)
				defer func() { _ = resp.Body.Close() }()
				var out struct{ Error, Field string }
				body, _ := io.ReadAll(resp.Body)
				require.NoError(t, json.NewDecoder(bytes.NewReader(body)).Decode(&out), string(body))
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
				require.Equal(t, field, out.Field)
			})
		}
	}
}
