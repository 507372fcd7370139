package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// The shapes of the API's answers, as a client reads them.
type webhookJSON struct {
	ID               int64
	Label, URL       string
	Status           models.WebhookStatus
	BasicAuth        *basicAuthJSON `json:"basic_auth"`
	Headers          []headerJSON
	SigningSecretSet bool      `json:"signing_secret_set"`
	LastTest         *testJSON `json:"last_test"`
}

type basicAuthJSON struct {
	Username    string
	PasswordSet bool `json:"password_set"`
}

type headerJSON struct {
	Name     string
	ValueSet bool `json:"value_set"`
}

type testJSON struct {
	Passed     bool
	StatusCode int `json:"status_code"`
	LatencyMS  int `json:"latency_ms"`
	Body       string
	Error      string
	ErrorClass string `json:"error_class"`
}

type errorBody struct {
	Error string
	Field string
}

// answering returns a receiver whose answer to delivery-less requests (the
// tests) is whatever *status holds.
func answering(t *testing.T, status *atomic.Int32) *apptest.Receiver {
	t.Helper()
	status.Store(200)
	r := apptest.NewReceiver(t)
	r.Answer = func(int, *apptest.Request) apptest.Answer {
		code := int(status.Load())
		return apptest.Answer{Status: code, Body: "receiver says " + http.StatusText(code)}
	}
	return r
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func createBody(url string) map[string]any {
	return map[string]any{
		"label":      "Email Open Webhook",
		"url":        url,
		"basic_auth": map[string]any{"username": "mkt", "password": "pw-secret-1"},
		"headers": []map[string]any{
			{"name": "X-Api-Key", "value": "hdr-secret-2"},
			{"name": "X-Tenant", "value": "acme"},
		},
	}
}

// The scenario of the foundation issue: create an asset with basic auth and
// two headers, see the receiver get the sample batch, activate only after a 200.
func TestWebhookTestThenActivate(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	var status atomic.Int32
	recv := answering(t, &status)

	var w webhookJSON
	code, raw := b.Call("POST", "/api/v1/webhooks", createBody(recv.URL+"/hook"), &w)
	require.Equal(t, http.StatusCreated, code, raw)
	require.Equal(t, models.StatusUntested, w.Status)
	require.Nil(t, w.LastTest)
	for _, secret := range []string{"pw-secret-1", "hdr-secret-2", "acme\""} {
		require.NotContains(t, raw, secret, "secrets are never echoed")
	}
	require.Equal(t, &basicAuthJSON{Username: "mkt", PasswordSet: true}, w.BasicAuth)
	require.Equal(t, []headerJSON{{"X-Api-Key", true}, {"X-Tenant", true}}, w.Headers)

	path := "/api/v1/webhooks/" + itoa(w.ID)
	var e errorBody
	code, _ = b.Call("POST", path+"/activate", nil, &e)
	require.Equal(t, http.StatusConflict, code)
	require.Contains(t, e.Error, "test")

	// A 500 is a failed test and does not unlock activation.
	status.Store(500)
	var res testJSON
	code, _ = b.Call("POST", path+"/test", nil, &res)
	require.Equal(t, http.StatusOK, code)
	require.False(t, res.Passed)
	require.Equal(t, 500, res.StatusCode)
	require.Equal(t, "receiver says Internal Server Error", res.Body)
	code, _ = b.Call("POST", path+"/activate", nil, nil)
	require.Equal(t, http.StatusConflict, code)

	// Any 2xx other than exactly 200 does not verify either.
	status.Store(204)
	b.Call("POST", path+"/test", nil, &res)
	require.False(t, res.Passed)

	status.Store(200)
	b.Call("POST", path+"/test", nil, &res)
	require.True(t, res.Passed, res.Error)
	require.Equal(t, 200, res.StatusCode)
	all := recv.All()
	require.Len(t, all, 3, "one request per test")
	req := all[2]
	user, pass, ok := (&http.Request{Header: req.Header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, "mkt", user)
	require.Equal(t, "pw-secret-1", pass)
	require.Equal(t, "hdr-secret-2", req.Header.Get("X-Api-Key"))
	require.Equal(t, "acme", req.Header.Get("X-Tenant"))
	require.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
	form, err := url.ParseQuery(string(req.Body))
	require.NoError(t, err)
	require.Contains(t, form.Get("data"), `{"acme_prod":[{"delivery_id":"dlv_test_`)
	require.Contains(t, form.Get("data"), `"test":true`)

	code, raw = b.Call("POST", path+"/activate", nil, &w)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, models.StatusActive, w.Status)
	require.NotNil(t, w.LastTest)
	require.True(t, w.LastTest.Passed)

	// Editing the URL takes it out of service until a new test passes.
	code, _ = b.Call("PATCH", path, map[string]any{"url": recv.URL + "/other"}, &w)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, models.StatusUntested, w.Status)
	code, _ = b.Call("POST", path+"/activate", nil, nil)
	require.Equal(t, http.StatusConflict, code)

	// Headers sent without values keep their stored values.
	code, raw = b.Call("PATCH", path, map[string]any{"url": recv.URL + "/hook", "headers": []map[string]any{{"name": "X-Api-Key"}, {"name": "X-Tenant"}}}, &w)
	require.Equal(t, http.StatusOK, code, raw)
	code, _ = b.Call("POST", path+"/activate", nil, &w)
	require.Equal(t, http.StatusOK, code, "back to the verified configuration")

	code, _ = b.Call("POST", path+"/deactivate", nil, &w)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, models.StatusInactive, w.Status)
}

func TestUnsavedTestLetsTheSameConfigActivate(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	var res testJSON
	code, raw := b.Call("POST", "/api/v1/webhooks/test", createBody(recv.URL+"/hook"), &res)
	require.Equal(t, http.StatusOK, code, raw)
	require.True(t, res.Passed)

	var w webhookJSON
	b.Call("POST", "/api/v1/webhooks", createBody(recv.URL+"/hook"), &w)
	code, _ = b.Call("POST", "/api/v1/webhooks/"+itoa(w.ID)+"/activate", nil, &w)
	require.Equal(t, http.StatusOK, code)

	// A different password is a different configuration.
	other := createBody(recv.URL + "/hook")
	other["label"] = "Other"
	other["basic_auth"] = map[string]any{"username": "mkt", "password": "changed"}
	b.Call("POST", "/api/v1/webhooks", other, &w)
	code, _ = b.Call("POST", "/api/v1/webhooks/"+itoa(w.ID)+"/activate", nil, nil)
	require.Equal(t, http.StatusConflict, code)
}

func TestWebhookTestReportsSSRFRefusal(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	// The test server allows 127.0.0.1 only; 127.0.0.2 is loopback outside it.
	target := strings.Replace(recv.URL, "127.0.0.1", "127.0.0.2", 1)
	var res testJSON
	code, _ := b.Call("POST", "/api/v1/webhooks/test", map[string]any{"url": target}, &res)
	require.Equal(t, http.StatusOK, code)
	require.False(t, res.Passed)
	require.Equal(t, "ssrf", res.ErrorClass)
	require.Contains(t, res.Error, "refused by the SSRF guard")
	require.Contains(t, res.Error, "loopback")
	require.Empty(t, recv.All())
}

func TestWebhookBadInput(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	good := func(change func(map[string]any)) map[string]any {
		m := createBody("https://hooks.example.com/in")
		change(m)
		return m
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"malformed JSON", `{"label": "x",`, 400, ""},
		{"not an object", `[1,2]`, 400, ""},
		{"empty body", ``, 400, ""},
		{"trailing data", `{"label":"a","url":"https://a.example"} {}`, 400, ""},
		{"unknown field", `{"label":"a","url":"https://a.example","lable":"x"}`, 400, "lable"},
		{"wrong type", `{"label":"a","url":"https://a.example","batch_size":"ten"}`, 400, "batch_size"},
		{"missing label", good(func(m map[string]any) { delete(m, "label") }), 400, "label"},
		{"ftp url", good(func(m map[string]any) { m["url"] = "ftp://example.com/" }), 400, "url"},
		{"url without host", good(func(m map[string]any) { m["url"] = "https://" }), 400, "url"},
		{"header name not a token", good(func(m map[string]any) { m["headers"] = []map[string]any{{"name": "Bad Name", "value": "v"}} }), 400, "headers[0].name"},
		{"header value with CRLF", good(func(m map[string]any) {
			m["headers"] = []map[string]any{{"name": "X-A", "value": "v\r\nX-Injected: 1"}}
		}), 400, "headers[0].value"},
		{"reserved Host", good(func(m map[string]any) { m["headers"] = []map[string]any{{"name": "Host", "value": "v"}} }), 400, "headers[0].name"},
		{"reserved Content-Length", good(func(m map[string]any) { m["headers"] = []map[string]any{{"name": "Content-Length", "value": "1"}} }), 400, "headers[0].name"},
		{"reserved Content-Type", good(func(m map[string]any) { m["headers"] = []map[string]any{{"name": "Content-Type", "value": "x"}} }), 400, "headers[0].name"},
		{"reserved Transfer-Encoding", good(func(m map[string]any) { m["headers"] = []map[string]any{{"name": "Transfer-Encoding", "value": "x"}} }), 400, "headers[0].name"},
		{"reserved Connection", good(func(m map[string]any) { m["headers"] = []map[string]any{{"name": "Connection", "value": "x"}} }), 400, "headers[0].name"},
		{"Authorization with basic auth", good(func(m map[string]any) {
			m["headers"] = []map[string]any{{"name": "Authorization", "value": "Bearer x"}}
		}), 400, "headers[0].name"},
		{"user name with colon", good(func(m map[string]any) { m["basic_auth"] = map[string]any{"username": "a:b", "password": "p"} }), 400, "basic_auth.username"},
		{"basic auth without password", good(func(m map[string]any) { m["basic_auth"] = map[string]any{"username": "a"} }), 400, "basic_auth.password"},
		{"batch size too large", good(func(m map[string]any) { m["batch_size"] = 5000 }), 400, "batch_size"},
		{"bad method", good(func(m map[string]any) { m["method"] = "DELETE" }), 400, "method"},
		{"bad signing secret", good(func(m map[string]any) { m["signing_secret"] = "hunter2" }), 400, "signing_secret"},
		{"body over 1 MiB", `{"label":"` + strings.Repeat("a", 1<<20) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		var e errorBody
		code, raw := b.Call("POST", "/api/v1/webhooks", tt.body, &e)
		require.Equal(t, tt.status, code, "%s: %s", tt.name, raw)
		require.NotEmpty(t, e.Error, tt.name)
		require.Equal(t, tt.field, e.Field, "%s: %s", tt.name, raw)
	}
	var list struct{ Webhooks []webhookJSON }
	b.Call("GET", "/api/v1/webhooks", nil, &list)
	require.Empty(t, list.Webhooks, "bad input changes nothing")

	// Bad input on update changes nothing either.
	var w webhookJSON
	code, _ := b.Call("POST", "/api/v1/webhooks", good(func(map[string]any) {}), &w)
	require.Equal(t, 201, code)
	code, _ = b.Call("PATCH", "/api/v1/webhooks/"+itoa(w.ID), map[string]any{"url": "gopher://x", "label": "renamed"}, nil)
	require.Equal(t, 400, code)
	var after webhookJSON
	b.Call("GET", "/api/v1/webhooks/"+itoa(w.ID), nil, &after)
	require.Equal(t, w.Label, after.Label)
	require.Equal(t, w.URL, after.URL)

	code, _ = b.Call("POST", "/api/v1/webhooks", good(func(m map[string]any) { m["label"] = "email open webhook" }), nil)
	require.Equal(t, http.StatusConflict, code, "duplicate label")

	for _, path := range []string{"/api/v1/webhooks/999", "/api/v1/webhooks/abc", "/api/v1/webhooks/-1"} {
		var e errorBody
		code, _ := b.Call("GET", path, nil, &e)
		require.Equal(t, http.StatusNotFound, code, path)
		require.Equal(t, "webhook not found", e.Error)
	}
}

func TestAuthAndPanelIsolation(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	var w webhookJSON
	code, _ := b.Call("POST", "/api/v1/webhooks", createBody("https://hooks.example.com/in"), &w)
	require.Equal(t, 201, code)

	for _, token := range []string{"", "hrld_wrong", "sk_live_notanadmintoken"} {
		var e errorBody
		code, _ := b.CallAs(token, "GET", "/api/v1/webhooks", nil, &e)
		require.Equal(t, http.StatusUnauthorized, code)
		require.NotEmpty(t, e.Error)
	}

	other := b.TokenFor("other_panel")
	path := "/api/v1/webhooks/" + itoa(w.ID)
	for _, c := range []struct{ method, path string }{
		{"GET", path}, {"PATCH", path}, {"DELETE", path}, {"POST", path + "/test"},
		{"POST", path + "/activate"}, {"POST", path + "/deactivate"}, {"POST", path + "/signing-secret"},
	} {
		code, raw := b.CallAs(other, c.method, c.path, map[string]any{"label": "stolen"}, nil)
		require.Equal(t, http.StatusNotFound, code, "%s %s: %s", c.method, c.path, raw)
	}
	var list struct{ Webhooks []webhookJSON }
	b.CallAs(other, "GET", "/api/v1/webhooks", nil, &list)
	require.Empty(t, list.Webhooks)

	var still webhookJSON
	b.Call("GET", path, nil, &still)
	require.Equal(t, "Email Open Webhook", still.Label)
}

func TestSigningSecretShownOnce(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	var w webhookJSON
	b.Call("POST", "/api/v1/webhooks", createBody("https://hooks.example.com/in"), &w)
	var out struct {
		SigningSecret string `json:"signing_secret"`
	}
	code, _ := b.Call("POST", "/api/v1/webhooks/"+itoa(w.ID)+"/signing-secret", nil, &out)
	require.Equal(t, 200, code)
	require.True(t, strings.HasPrefix(out.SigningSecret, "whsec_"))
	_, raw := b.Call("GET", "/api/v1/webhooks/"+itoa(w.ID), nil, &w)
	require.True(t, w.SigningSecretSet)
	require.NotContains(t, raw, out.SigningSecret)
	require.NotContains(t, raw, strings.TrimPrefix(out.SigningSecret, "whsec_"))
}

func TestDeleteWebhook(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	var w webhookJSON
	b.Call("POST", "/api/v1/webhooks", createBody("https://hooks.example.com/in"), &w)
	code, _ := b.Call("DELETE", "/api/v1/webhooks/"+itoa(w.ID), nil, nil)
	require.Equal(t, http.StatusNoContent, code)
	code, _ = b.Call("DELETE", "/api/v1/webhooks/"+itoa(w.ID), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
	_, err := b.Store.Webhook(context.Background(), b.Panel.ID, w.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
}

// Deliveries have no foreign key to their webhook: the delete takes them
// itself, and only the deleted webhook's.
func TestDeleteWebhookDeletesItsDeliveries(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	gone, kept := b.ActiveWebhook("Gone", recv.URL, nil), b.ActiveWebhook("Kept", recv.URL, nil)
	for _, id := range []int64{gone, kept} {
		code, raw := b.Call("POST", hookPath(id, "/deliveries"), map[string]any{"items": items(3, "d")}, nil)
		require.Equal(t, http.StatusAccepted, code, raw)
	}
	code, _ := b.Call("DELETE", hookPath(gone, ""), nil, nil)
	require.Equal(t, http.StatusNoContent, code)
	count := func(id int64) (n int64) {
		require.NoError(t, b.Store.DBForTest().Model(&models.Delivery{}).Where("webhook_id = ?", id).Count(&n).Error)
		return n
	}
	require.Zero(t, count(gone))
	require.EqualValues(t, 3, count(kept))
}

func TestAdminRateLimit(t *testing.T) {
	t.Parallel()
	b := apptest.Start(t, apptest.Options{NoWorker: true, AdminRateLimit: 5})
	for i := range 5 {
		code, _ := b.Call("GET", "/api/v1/webhooks", nil, nil)
		require.Equal(t, 200, code, "request %d", i+1)
	}
	var e errorBody
	code, _ := b.Call("GET", "/api/v1/webhooks", nil, &e)
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, "rate limit exceeded", e.Error)
	// Another panel has its own budget.
	code, _ = b.CallAs(b.TokenFor("other"), "GET", "/api/v1/webhooks", nil, nil)
	require.Equal(t, 200, code)
}
