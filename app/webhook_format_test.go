package app_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// realRequests are the requests that carried deliveries, not test requests:
// the sample event's delivery_id starts with dlv_test_.
func realRequests(recv *apptest.Receiver) []*apptest.Request {
	var out []*apptest.Request
	for _, r := range recv.All() {
		if !strings.Contains(string(r.Body), "dlv_test_") {
			out = append(out, r)
		}
	}
	return out
}

// waitRequests waits until n requests carried deliveries.
func waitRequests(t *testing.T, recv *apptest.Receiver, n int) []*apptest.Request {
	t.Helper()
	recv.WaitFor(t, 10*time.Second, "requests", func() bool { return len(realRequests(recv)) >= n })
	return realRequests(recv)
}

// logRequest writes a request as the receiver saw it (for the note).
func logRequest(t *testing.T, r *apptest.Request) {
	t.Helper()
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k + ": " + strings.Join(r.Header[k], ", ") + "\n")
	}
	t.Logf("request as received:\n%s\n%s", b.String(), r.Body)
}

func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return v
}

// TestBodyFormatsAsTheReceiverDecodesThem sends one event per format to a
// loopback receiver and decodes each body as a receiver would.
func TestBodyFormatsAsTheReceiverDecodesThem(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	item := map[string]any{
		"msgid": "546", "channel": "email", "event": "open", "journey_name": "Cart recovery",
		"event_params":   map[string]any{"email": "a@b.com", "timestamp": "2022-12-02T15:48:05", "ts": 221202154805},
		"custom_params":  map[string]any{"Action": "Email Open"},
		"att_params":     map[string]any{"EMAIL": "a@b.com", "FIRSTNAME": "Ann <&>"},
		"payload_params": map[string]any{"url": "https://shop.example/p?id=1&x=2"},
	}
	// expect is the item as sent, with its delivery_id, decoded.
	expect := func(id string) map[string]any {
		raw, _ := json.Marshal(item)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		m["delivery_id"] = id
		return m
	}

	t.Run("form: data= of the panel's batch", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		id := env.ActiveWebhook("Form hook", recv.URL, map[string]any{"batch_wait_ms": 0})
		ids := env.Deliver(id, item)
		r := waitRequests(t, recv, 1)[0]
		logRequest(t, r)
		require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		form, err := url.ParseQuery(string(r.Body))
		require.NoError(t, err)
		require.Equal(t, map[string]any{env.Panel.Name: []any{any(expect(ids[0]))}}, decodeJSON(t, []byte(form.Get("data"))))
	})

	t.Run("json with batch_size 1: the event object itself", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		id := env.ActiveWebhook("JSON one", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1, "body_format": "json"})
		ids := env.Deliver(id, item, item)
		rs := waitRequests(t, recv, 2)
		logRequest(t, rs[0])
		for i, r := range rs {
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.Equal(t, any(expect(ids[i])), decodeJSON(t, r.Body))
			require.True(t, strings.HasPrefix(string(r.Body), `{"delivery_id":"`+ids[i]+`",`), "delivery_id first: %s", r.Body)
		}
	})

	t.Run("json batch: an array of the items, in order", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		id := env.ActiveWebhook("JSON batch", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 10, "body_format": "json"})
		ids := env.Deliver(id, item, item, item)
		r := waitRequests(t, recv, 1)[0]
		logRequest(t, r)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, []any{expect(ids[0]), expect(ids[1]), expect(ids[2])}, decodeJSON(t, r.Body))
	})

	t.Run("template, JSON: one request per event, rendered", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		tpl := "{\n  \"id\": {{ delivery_id | json }},\n  \"email\": {{ contact.email | json }},\n" +
			"  \"name\": {{ contact.FIRSTNAME | json }},\n  \"event\": {{ event.name | json }},\n" +
			"  \"url\": {{ event.properties.url | json }},\n  \"journey\": {{ journey.name | json }},\n" +
			"  \"hook\": {{ webhook.name | json }},\n  \"panel\": {{ panel | json }},\n  \"action\": {{ params.custom_params.Action | json }}\n}"
		id := env.ActiveWebhook("Braze-like", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 10,
			"body_format": "template", "body_template": tpl, "template_content_type": "application/json"})
		ids := env.Deliver(id, item, item)
		rs := waitRequests(t, recv, 2)
		logRequest(t, rs[0])
		for i, r := range rs {
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			want := "{\n  \"id\": \"" + ids[i] + "\",\n  \"email\": \"a@b.com\",\n  \"name\": \"Ann \\u003c\\u0026\\u003e\",\n" +
				"  \"event\": \"open\",\n  \"url\": \"https://shop.example/p?id=1\\u0026x=2\",\n  \"journey\": \"Cart recovery\",\n" +
				"  \"hook\": \"Braze-like\",\n  \"panel\": \"" + env.Panel.Name + "\",\n  \"action\": \"Email Open\"\n}"
			require.Equal(t, want, string(r.Body), "exactly the rendered template")
			require.Equal(t, "Ann <&>", decodeJSON(t, r.Body).(map[string]any)["name"])
		}
	})

	t.Run("template over events: the whole batch in one request", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		tpl := `{"events": [{% for e in events %}{"id": {{ e.delivery_id | json }}, "email": {{ e.contact.email | json }}}` +
			`{% unless forloop.last %},{% endunless %}{% endfor %}], "count": {{ events | size }}}`
		id := env.ActiveWebhook("Batch template", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 10,
			"body_format": "template", "body_template": tpl})
		ids := env.Deliver(id, item, item, item)
		r := waitRequests(t, recv, 1)[0]
		logRequest(t, r)
		require.Equal(t, `{"events": [{"id": "`+ids[0]+`", "email": "a@b.com"},{"id": "`+ids[1]+`", "email": "a@b.com"},`+
			`{"id": "`+ids[2]+`", "email": "a@b.com"}], "count": 3}`, string(r.Body))
	})

	t.Run("template, form content type", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		id := env.ActiveWebhook("Form template", recv.URL, map[string]any{"batch_wait_ms": 0,
			"body_format": "template", "template_content_type": "application/x-www-form-urlencoded",
			"body_template": "email={{ contact.email | url_encode }}&event={{ event.name | url_encode }}&id={{ delivery_id }}"})
		ids := env.Deliver(id, item)
		r := waitRequests(t, recv, 1)[0]
		logRequest(t, r)
		require.Equal(t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		form, err := url.ParseQuery(string(r.Body))
		require.NoError(t, err)
		require.Equal(t, url.Values{"email": {"a@b.com"}, "event": {"open"}, "id": {ids[0]}}, form)
	})

	t.Run("a value that breaks the template's JSON fails that delivery, never sent", func(t *testing.T) {
		t.Parallel()
		recv := apptest.NewReceiver(t)
		id := env.ActiveWebhook("Raw template", recv.URL, map[string]any{"batch_wait_ms": 0,
			"body_format": "template", "body_template": `{"note": "{{ item.note }}"}`})
		bad := env.Deliver(id, map[string]any{"note": `say "hi"`})
		env.WaitStatus(10*time.Second, models.DeliveryFailed, bad...)
		good := env.Deliver(id, map[string]any{"note": "fine"})
		env.WaitStatus(10*time.Second, models.DeliveryDelivered, good...)
		rs := recv.All() // the test request's sample has no note
		require.Equal(t, []string{`{"note": ""}`, `{"note": "fine"}`}, []string{string(rs[0].Body), string(rs[1].Body)})
		require.Len(t, rs, 2, "the broken one never went out")
		requireTemplateFailure(t, env, id, "invalid JSON at line 1, column")
	})
}

// TestHMACSignatureVerifiesIndependently checks the hmac-sha256 scheme as a
// receiver would, with crypto/hmac and the secret's decoded bytes.
func TestHMACSignatureVerifiesIndependently(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	secret := models.NewSigningSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	verify := func(t *testing.T, r *apptest.Request, header string) {
		t.Helper()
		ts := r.Header.Get("X-Webhook-Timestamp")
		require.NotEmpty(t, ts)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(ts + "." + string(r.Body)))
		require.Equal(t, "sha256="+hex.EncodeToString(mac.Sum(nil)), r.Header.Get(header))
		require.Empty(t, r.Header.Get("webhook-signature"), "one scheme, not both")
		sent, err := time.Parse(time.RFC3339, time.Unix(mustInt(t, ts), 0).UTC().Format(time.RFC3339))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), sent, time.Minute)
	}
	for _, tc := range []struct {
		name, format, header string
		fields               map[string]any
	}{
		{"json, default header", "json", "X-Webhook-Signature", map[string]any{"batch_size": 1}},
		{"form, own header", "form", "X-Hub-Signature-256", map[string]any{"signature_header": "X-Hub-Signature-256"}},
		{"template", "template", "X-Webhook-Signature", map[string]any{"body_template": `{"e": {{ event.name | json }}}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			recv := apptest.NewReceiver(t)
			fields := map[string]any{"batch_wait_ms": 0, "signing_secret": secret, "signature_scheme": "hmac-sha256", "body_format": tc.format}
			for k, v := range tc.fields {
				fields[k] = v
			}
			id := env.ActiveWebhook("HMAC "+tc.name, recv.URL, fields)
			verify(t, recv.All()[0], tc.header) // the test request is signed the same way
			env.Deliver(id, map[string]any{"event": "open"})
			r := waitRequests(t, recv, 1)[0]
			logRequest(t, r)
			verify(t, r, tc.header)
		})
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}

// TestBodyTemplateCheckedOnSave refuses templates that cannot render or
// render invalid JSON, with the line and column, and changes nothing.
//
//nolint:paralleltest // the check after the cases that nothing was saved needs them done
func TestBodyTemplateCheckedOnSave(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	for _, tc := range []struct {
		name, template, msg string
	}{
		{"does not parse", "{\n  \"a\": {% if contact.email %}1\n}", "line 2, column 8"},
		{"unknown filter", "{\n\"a\": {{ event.name | shout }}}", "line 2, column 6"},
		{"invalid JSON", "{\n  \"email\": {{ contact.email }}\n}", "invalid JSON at line 2, column 13"},
		{"empty", "", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e struct{ Error, Field string }
			code, raw := env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "T " + tc.name, "url": recv.URL,
				"body_format": "template", "body_template": tc.template}, &e)
			require.Equal(t, http.StatusBadRequest, code, raw)
			require.Equal(t, "body_template", e.Field)
			require.Contains(t, e.Error, tc.msg)
		})
	}
	var list struct{ Webhooks []any }
	env.Call("GET", "/api/v1/webhooks", nil, &list)
	require.Empty(t, list.Webhooks, "nothing saved")

	id := env.ActiveWebhook("Valid", recv.URL, map[string]any{"batch_wait_ms": 0})
	var e struct{ Error, Field string }
	code, raw := env.Call("PATCH", hookPath(id, ""), map[string]any{"body_format": "template", "body_template": "{% if x %}"}, &e)
	require.Equal(t, http.StatusBadRequest, code, raw)
	require.Equal(t, "body_template", e.Field)
	require.Contains(t, e.Error, "line 1, column 1")
	var w struct {
		BodyFormat string `json:"body_format"`
		Status     string
	}
	env.Call("GET", hookPath(id, ""), nil, &w)
	require.Equal(t, "form", w.BodyFormat, "a refused change changes nothing")
	require.Equal(t, "active", w.Status)

	code, raw = env.Call("PATCH", hookPath(id, ""), map[string]any{"body_format": "json", "method": "GET"}, &e)
	require.Equal(t, http.StatusBadRequest, code, raw)
	require.Equal(t, "body_format", e.Field)
}

// TestFormatChangesNeedANewTest: the test gate covers the body format, the
// template and the signature scheme; the Test renders the template with the
// sample event.
func TestFormatChangesNeedANewTest(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Gate", recv.URL, map[string]any{"batch_wait_ms": 0, "signing_secret": models.NewSigningSecret()})
	for _, change := range []map[string]any{
		{"body_format": "json"},
		{"body_format": "template", "body_template": `{"e": {{ event.name | json }}, "who": {{ contact.FIRSTNAME | json }}}`},
		{"body_template": `{"e": {{ event.name | json }}}`},
		{"template_content_type": "application/x-www-form-urlencoded"},
		{"signature_scheme": "hmac-sha256"},
		{"signature_header": "X-Sig"},
	} {
		var w struct{ Status string }
		code, raw := env.Call("PATCH", hookPath(id, ""), change, &w)
		require.Equal(t, http.StatusOK, code, raw)
		require.Equal(t, "untested", w.Status, "%v needs a new test", change)
		code, raw = env.Call("POST", hookPath(id, "/activate"), nil, nil)
		require.Equal(t, http.StatusConflict, code, raw)
		var res struct{ Passed bool }
		code, raw = env.Call("POST", hookPath(id, "/test"), nil, &res)
		require.Equal(t, http.StatusOK, code, raw)
		require.True(t, res.Passed, raw)
		code, raw = env.Call("POST", hookPath(id, "/activate"), nil, nil)
		require.Equal(t, http.StatusOK, code, raw)
	}
	// The second change's test rendered the template with the sample event.
	tests := recv.All()
	require.Equal(t, `{"e": "open", "who": "Test"}`, string(tests[2].Body)) //nolint:testifylint // exact bytes: the rendered template
	require.Equal(t, "application/json", tests[2].Header.Get("Content-Type"))

	var w struct{ Status string }
	env.Call("PATCH", hookPath(id, ""), map[string]any{"batch_size": 5, "label": "Gate 2"}, &w)
	require.Equal(t, "active", w.Status, "batch settings need no new test")
}

// TestPreviewRendersTheSampleEvent is the API behind the UI's live preview.
func TestPreviewRendersTheSampleEvent(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	var p struct {
		ContentType string `json:"content_type"`
		Body        string
	}
	code, raw := env.Call("POST", "/api/v1/webhooks/preview", map[string]any{"label": "P", "body_format": "template",
		"body_template": `{"email": {{ contact.email | json }}, "hook": {{ webhook.name | json }}}`}, &p)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "application/json", p.ContentType)
	require.Equal(t, `{"email": "test.user@example.com", "hook": "P"}`, p.Body) //nolint:testifylint // exact bytes: the rendered template

	code, raw = env.Call("POST", "/api/v1/webhooks/preview", map[string]any{"body_format": "json", "batch_size": 1}, &p)
	require.Equal(t, http.StatusOK, code, raw)
	require.Contains(t, p.Body, `"test":true`)

	var e struct{ Error, Field string }
	code, raw = env.Call("POST", "/api/v1/webhooks/preview", map[string]any{"body_format": "template", "body_template": "a\n{{ x | nope }}"}, &e)
	require.Equal(t, http.StatusBadRequest, code, raw)
	require.Equal(t, "body_template", e.Field)
	require.Contains(t, e.Error, "line 2, column 1")
}

// A template whose loops multiply is refused when saved if the sample shows
// it, and otherwise fails the delivery that makes it run too long, with
// error class template, while the worker goes on delivering.
func TestBodyTemplateLoopsAreBounded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	var e struct{ Error, Field string }
	code, raw := env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "Split loops", "url": recv.URL,
		"body_format": "template", "template_content_type": "application/x-www-form-urlencoded",
		"body_template": "{% assign xs = '" + strings.Repeat("x,", 3000) + "' | split: ',' %}\n" +
			"n={% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}"}, &e)
	require.Equal(t, http.StatusBadRequest, code, raw)
	require.Equal(t, "body_template", e.Field)
	require.Contains(t, e.Error, "line 2, column 3: loops run too long")

	hook := env.ActiveWebhook("Item loops", recv.URL, map[string]any{"batch_wait_ms": 0,
		"body_format": "template", "template_content_type": "application/x-www-form-urlencoded",
		"body_template": "id={{ delivery_id }}&n={% for a in item.xs %}{% for b in item.xs %}{% endfor %}{% endfor %}{{ item.xs | size }}"})
	other := apptest.NewReceiver(t)
	otherHook := env.ActiveWebhook("Other", other.URL, map[string]any{"batch_wait_ms": 0})
	xs := make([]int, 2000)
	bad := env.Deliver(hook, map[string]any{"xs": xs})
	good := env.Deliver(otherHook, map[string]any{"event": "open"})
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, good...)
	env.WaitStatus(10*time.Second, models.DeliveryFailed, bad...)
	small := env.Deliver(hook, map[string]any{"xs": xs[:10]})
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, small...)
	require.Equal(t, "id="+small[0]+"&n=10", string(realRequests(recv)[0].Body), "the one that ran too long never went out")
	requireTemplateFailure(t, env, hook, "loops run too long")
}

// Filters are bounded too, outside loops: a few hundred bytes of replace
// and escape once rendered for half a minute and built 1.4 GB in the
// process that serves every panel (a preview), or, hidden behind a value
// the sample lacks, outlived the send lease on the worker, which sent the
// delivery again and again. Now such a rendering fails at once: the
// preview is a 400, the delivery fails with class template and never goes
// out, and the webhook's other deliveries go on.
func TestBodyTemplateFiltersAreBounded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	bomb := `{{ "&&&&"` + strings.Repeat(` | replace: "&", "&&&&&&&&&&"`, 6) + strings.Repeat(` | escape`, 6) + ` | size }}`
	var e struct{ Error, Field string }
	code, raw := env.Call("POST", "/api/v1/webhooks/preview", map[string]any{"label": "P", "body_format": "template",
		"template_content_type": "application/x-www-form-urlencoded", "body_template": strings.Repeat(bomb, 3)}, &e)
	require.Equal(t, http.StatusBadRequest, code, raw)
	require.Equal(t, "body_template", e.Field)
	require.Contains(t, e.Error, `line 1, column 1: error applying filter "escape" ("a value grows past 10485760 bytes`)

	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Hidden bomb", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1,
		"body_format": "template", "template_content_type": "application/x-www-form-urlencoded",
		"body_template": "{% if item.boom %}" + strings.Repeat(bomb, 2) + "{% endif %}id={{ delivery_id }}"})
	bad := env.Deliver(hook, map[string]any{"boom": true})
	env.WaitStatus(10*time.Second, models.DeliveryFailed, bad...)
	good := env.Deliver(hook, map[string]any{"boom": false})
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, good...)
	rs := realRequests(recv)
	require.Len(t, rs, 1, "the one that could not render never went out")
	require.Equal(t, "id="+good[0], string(rs[0].Body))
	requireTemplateFailure(t, env, hook, "a value grows past 10485760 bytes")
}

// requireTemplateFailure checks that the webhook's one failed attempt
// failed with error class template and an error that says want.
func requireTemplateFailure(t *testing.T, env *apptest.Env, hook int64, want string) {
	t.Helper()
	var attempts struct {
		Attempts []struct {
			ErrorClass string `json:"error_class"`
			Error      string
		}
	}
	code, raw := env.Call("GET", hookPath(hook, "/attempts?outcome=failed"), nil, &attempts)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, attempts.Attempts, 1, raw)
	require.Equal(t, "template", attempts.Attempts[0].ErrorClass)
	require.Contains(t, attempts.Attempts[0].Error, want)
}

// A template refused by the template checks of this session (a loop that
// holds what each pass wrote, too many assigned names, a name too long)
// is a 400 on body_template when saved, and no webhook is created.
func TestBodyTemplateRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	names := ""
	for i := range 257 {
		names += fmt.Sprintf("{%% assign v%d = 1 %%}", i)
	}
	for src, msg := range map[string]string{
		`{% for e in events %}{{ e.event.name -}}{% continue %}{% endfor %}`: "right after a right trim",
		names: "a template assigns at most 256 different names",
		"{% assign " + strings.Repeat("n", 129) + " = 1 %}": "an assigned name is at most 128 bytes long",
	} {
		var e struct{ Error, Field string }
		code, raw := env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "Refused", "url": "https://refused.example/hook",
			"body_format": "template", "template_content_type": "application/x-www-form-urlencoded", "body_template": src}, &e)
		require.Equal(t, http.StatusBadRequest, code, raw)
		require.Equal(t, "body_template", e.Field, raw)
		require.Contains(t, e.Error, msg)
	}
	var list struct{ Webhooks []struct{ ID int64 } }
	code, raw := env.Call("GET", "/api/v1/webhooks", nil, &list)
	require.Equal(t, http.StatusOK, code, raw)
	require.Empty(t, list.Webhooks, "nothing was created")
}
