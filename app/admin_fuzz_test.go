package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app"
	"github.com/heraldhq/herald/app/apptest"
)

// adminRoute is an admin API route as FuzzAdminRoutes calls it, with a
// valid body. In paths, {webhook}, {journey}, {list}, {segment} and
// {contact} stand for rows made once ({member}: the contact, as a list's
// member); {new-webhook}, {new-key}, {new-recipient} and {new-journey}
// for a row made for each call (DELETE removes it). In bodies, $RECV stands for
// the loopback receiver's URL, $DELIVERY for a delivery's id and the
// number 999000001 for the webhook's id.
type adminRoute struct{ method, path, body string }

// adminRoutes is every route of the admin API (app/routes.go):
// FuzzAdminRoutes fails when one is missing.
var adminRoutes = []adminRoute{
	{"GET", "/api/v1/webhooks", ""},
	{"POST", "/api/v1/webhooks", `{"label": "Fuzz hook", "url": "$RECV", "batch_size": 10, "headers": [{"name": "X-Tenant", "value": "acme"}]}`},
	{"POST", "/api/v1/webhooks/test", `{"label": "Fuzz test", "url": "$RECV", "method": "POST"}`},
	{"POST", "/api/v1/webhooks/preview", `{"label": "Fuzz preview", "body_format": "template", "batch_size": 5, "body_template": "{\"e\": {{ event.name | json }}}"}`},
	{"GET", "/api/v1/webhooks/{webhook}", ""},
	{"PATCH", "/api/v1/webhooks/{webhook}", `{"description": "patched", "batch_wait_ms": 100, "health_settings": {"window": "1h"}}`},
	{"DELETE", "/api/v1/webhooks/{new-webhook}", ""},
	{"POST", "/api/v1/webhooks/{webhook}/test", ""},
	{"POST", "/api/v1/webhooks/{webhook}/activate", ""},
	{"POST", "/api/v1/webhooks/{webhook}/deactivate", ""},
	{"POST", "/api/v1/webhooks/{webhook}/signing-secret", ""},
	{"POST", "/api/v1/webhooks/{webhook}/deliveries", `{"items": [{"order_id": 1, "email": "a@example.com", "total": 12.5, "tags": ["x"]}]}`},
	{"GET", "/api/v1/webhooks/{webhook}/deliveries", ""},
	{"GET", "/api/v1/webhooks/{webhook}/attempts", ""},
	{"POST", "/api/v1/webhooks/{webhook}/replay", `{"delivery_ids": ["$DELIVERY"]}`},
	{"GET", "/api/v1/ingest-keys", ""},
	{"POST", "/api/v1/ingest-keys", `{"label": "fuzz"}`},
	{"DELETE", "/api/v1/ingest-keys/{new-key}", ""},
	{"GET", "/api/v1/journeys", ""},
	{"POST", "/api/v1/journeys", `{"name": "Fuzz journey", "reentry": "always", "nodes": [{"id": "t", "type": "trigger", "event": "open", "next": "h"},` +
		` {"id": "h", "type": "webhook", "webhook_id": 999000001, "event_params": ["email"], "next": "s"}, {"id": "s", "type": "stop"}]}`},
	{"GET", "/api/v1/journeys/{journey}", ""},
	{"PUT", "/api/v1/journeys/{journey}", `{"name": "Fuzz journey 2", "nodes": [{"id": "t", "type": "trigger", "event": "open", "next": "w"},` +
		` {"id": "w", "type": "wait", "duration": "1h", "next": "s"}, {"id": "s", "type": "stop"}]}`},
	{"POST", "/api/v1/journeys/{journey}/publish", ""},
	{"POST", "/api/v1/journeys/{journey}/pause", ""},
	{"POST", "/api/v1/journeys/{journey}/stop", ""},
	{"GET", "/api/v1/journeys/{journey}/runs", ""},
	{"GET", "/api/v1/journeys/{journey}/stats", ""},
	{"POST", "/api/v1/journeys/{journey}/clone", ""},
	{"POST", "/api/v1/journeys/{journey}/archive", ""},
	{"POST", "/api/v1/journeys/{journey}/unarchive", ""},
	{"DELETE", "/api/v1/journeys/{new-journey}", ""},
	{"POST", "/api/v1/contacts", `{"email": "c@example.com", "attributes": {"CITY": "Pune", "SCORE": 5, "VIP": true}}`},
	{"GET", "/api/v1/contacts?email=c%40example.com", ""},
	{"GET", "/api/v1/contacts/{contact}", ""},
	{"PUT", "/api/v1/contacts/{contact}/data/{table}", `{"rows": [{"order_id": 8812, "sku": "A1"}]}`},
	{"GET", "/api/v1/contacts/{contact}/data/{table}", ""},
	{"DELETE", "/api/v1/contacts/{contact}/data/{table}", ""},
	{"GET", "/api/v1/lists", ""},
	{"POST", "/api/v1/lists", `{"name": "Fuzz list"}`},
	{"POST", "/api/v1/lists/{list}/members", `{"members": [{"email": "m@example.com", "attributes": {"PLAN": "gold"}}, {"external_id": "u-9"}]}`},
	{"GET", "/api/v1/lists/{list}/members?page=2", ""},
	{"DELETE", "/api/v1/lists/{list}/members/{member}", ""},
	{"GET", "/api/v1/segments", ""},
	{"POST", "/api/v1/segments", `{"name": "Fuzz segment", "filters": [{"attribute": "CITY", "op": "eq", "value": "Pune"}]}`},
	{"GET", "/api/v1/segments/{segment}/members?after=0", ""},
	{"GET", "/api/v1/alert-recipients", ""},
	{"POST", "/api/v1/alert-recipients", `{"email": "ops@example.com", "webhook_id": 999000001}`},
	{"POST", "/api/v1/alert-recipients/{new-recipient}/confirmation", ""},
	{"DELETE", "/api/v1/alert-recipients/{new-recipient}", ""},
	{"GET", "/api/v1/alerts", ""},
	{"GET", "/api/v1/settings", ""},
	{"PATCH", "/api/v1/settings", `{"ingest_rate_limit": 500, "health": {"window": "1h", "pause_after_failures": 50}}`},
}

// FuzzAdminRoutes sends arbitrary bodies to every admin route of one
// running Herald, with the ids of rows that exist: no answer may be a 5xx.
// The seeds are each route's valid body; the corpus in
// testdata/fuzz/FuzzAdminRoutes (written by TestAdminRoutesCorpus) holds
// variants of them with NUL, unpaired surrogates, bytes that are not
// UTF-8, huge numbers, wrong types and deep nesting.
func FuzzAdminRoutes(f *testing.F) {
	env := apptest.Start(f, apptest.Options{NoWorker: true, AdminRateLimit: 1 << 30})
	fz := newAdminFuzz(f, env)
	for _, r := range adminRoutes {
		f.Add(r.method+" "+r.path, []byte(r.body))
	}
	f.Fuzz(func(t *testing.T, route string, body []byte) {
		fz.send(t, fz.route(route), body)
	})
}

// adminFuzz is the state FuzzAdminRoutes keeps across its inputs.
type adminFuzz struct {
	env    *apptest.Env
	client *http.Client
	recv   string
	ids    map[string]string // placeholder → id
}

func newAdminFuzz(f *testing.F, env *apptest.Env) *adminFuzz {
	f.Helper()
	// Every admin route of the real route table is in adminRoutes.
	var missing []string
	for _, r := range app.New(app.Params{Store: env.Store}).Routes() {
		if strings.HasPrefix(r.Path, "/api/") && !slices.ContainsFunc(adminRoutes, func(a adminRoute) bool {
			return a.method == r.Method && routePattern(a.path) == r.Path
		}) {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	if len(missing) > 0 {
		f.Fatalf("admin routes missing from adminRoutes: %v", missing)
	}
	recv := apptest.NewReceiver(f)
	hook := env.ActiveWebhook("Fuzz", recv.URL, nil)
	fz := &adminFuzz{env: env, recv: recv.URL, ids: map[string]string{"{webhook}": itoa(hook)},
		client: &http.Client{Timeout: 30 * time.Second}}
	f.Cleanup(fz.client.CloseIdleConnections)
	fz.ids["$DELIVERY"] = env.Deliver(hook, map[string]any{"order_id": 1})[0]
	fz.ids["{table}"] = "orders"
	for placeholder, c := range map[string]struct{ path, body string }{
		"{journey}": {"/api/v1/journeys", `{"name": "Fuzzed", "nodes": [{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]}`},
		"{list}":    {"/api/v1/lists", `{"name": "Fuzzed"}`},
		"{contact}": {"/api/v1/contacts", `{"email": "fuzzed@example.com"}`},
		"{segment}": {"/api/v1/segments", `{"name": "Fuzzed", "filters": [{"attribute": "CITY", "op": "exists"}]}`},
	} {
		var row struct{ ID int64 }
		code, raw := env.Call("POST", c.path, c.body, &row)
		if code/100 != 2 {
			f.Fatalf("make %s: %d %s", placeholder, code, raw)
		}
		fz.ids[placeholder] = itoa(row.ID)
	}
	fz.ids["{member}"] = fz.ids["{contact}"]
	return fz
}

// routePattern is a path of adminRoutes as the route table writes it.
func routePattern(path string) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case p == "{table}":
			parts[i] = ":table" // a contact's data table, by name
		case p == "{member}":
			parts[i] = ":contact" // a list's member
		case strings.HasPrefix(p, "{"):
			parts[i] = ":id"
		}
	}
	return strings.Join(parts, "/")
}

// route picks the route an input names; a name the fuzzer changed still
// picks one, always the same, so no input is wasted.
func (fz *adminFuzz) route(name string) adminRoute {
	for _, r := range adminRoutes {
		if r.method+" "+r.path == name {
			return r
		}
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return adminRoutes[int(h.Sum32()%uint32(len(adminRoutes)))]
}

// send calls the route with the body and fails on a 5xx.
func (fz *adminFuzz) send(t *testing.T, r adminRoute, body []byte) {
	t.Helper()
	body = bytes.ReplaceAll(body, []byte("$RECV"), []byte(fz.recv))
	body = bytes.ReplaceAll(body, []byte("$DELIVERY"), []byte(fz.ids["$DELIVERY"]))
	body = bytes.ReplaceAll(body, []byte("999000001"), []byte(fz.ids["{webhook}"]))
	if strings.HasPrefix(r.path, "/api/v1/webhooks") && !loopbackOnly(body) {
		t.Skip("the body could make Herald send a test outside loopback")
	}
	path := r.path
	for placeholder, id := range fz.ids {
		path = strings.ReplaceAll(path, placeholder, id)
	}
	for placeholder, create := range map[string]struct{ path, body string }{
		"{new-webhook}":   {"/api/v1/webhooks", `{"label": "Doomed ` + strconv.FormatInt(time.Now().UnixNano(), 36) + `", "url": "` + fz.recv + `"}`},
		"{new-key}":       {"/api/v1/ingest-keys", `{"label": "doomed"}`},
		"{new-recipient}": {"/api/v1/alert-recipients", `{"email": "doomed-` + strconv.FormatInt(time.Now().UnixNano(), 36) + `@example.com"}`},
		"{new-journey}": {"/api/v1/journeys", `{"name": "Doomed ` + strconv.FormatInt(time.Now().UnixNano(), 36) +
			`", "nodes": [{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]}`},
	} {
		if strings.Contains(path, placeholder) {
			var row struct{ ID int64 }
			code, raw := fz.do(t, "POST", create.path, []byte(create.body))
			require.Equal(t, http.StatusCreated, code, raw)
			require.NoError(t, json.Unmarshal([]byte(raw), &row))
			path = strings.ReplaceAll(path, placeholder, itoa(row.ID))
		}
	}
	code, raw := fz.do(t, r.method, path, body)
	if code >= 500 {
		t.Fatalf("%s %s with body %.300q: %d %s", r.method, path, body, code, raw)
	}
}

func (fz *adminFuzz) do(t *testing.T, method, path string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, fz.env.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+fz.env.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := fz.client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(raw)
}

// loopbackOnly reports whether every "url" of a webhook body (matched as
// the decoder matches names, ignoring case) is a loopback address, so that
// a test of what the body describes sends nothing off this machine, nor
// looks a name up. A body that is not a JSON object is refused by Herald
// before anything is sent.
func loopbackOnly(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fields map[string]any
	if dec.Decode(&fields) != nil {
		return true
	}
	for k, v := range fields {
		s, isText := v.(string)
		if !strings.EqualFold(k, "url") || !isText {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil {
			continue // refused as it is refused here
		}
		ip := net.ParseIP(u.Hostname())
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// TestAdminRoutesCorpus checks that the committed corpus of
// FuzzAdminRoutes has the variants of every route's body, and writes them
// with HERALD_WRITE_CORPUS=1 (after a route is added, say).
func TestAdminRoutesCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzAdminRoutes")
	write := os.Getenv("HERALD_WRITE_CORPUS") == "1"
	if write {
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	for _, r := range adminRoutes {
		for name, body := range bodyVariants(t, r.body) {
			file := filepath.Join(dir, corpusName(r)+"_"+name)
			want := fmt.Sprintf("go test fuzz v1\nstring(%q)\n[]byte(%q)\n", r.method+" "+r.path, body)
			if write {
				require.NoError(t, os.WriteFile(file, []byte(want), 0o644))
				continue
			}
			got, err := os.ReadFile(file)
			require.NoError(t, err, "run HERALD_WRITE_CORPUS=1 go test ./app -run TestAdminRoutesCorpus")
			require.Equal(t, want, string(got), "%s is out of date: run HERALD_WRITE_CORPUS=1 go test ./app -run TestAdminRoutesCorpus", file)
		}
	}
}

// corpusName is a file name for a route: POST /api/v1/webhooks/{webhook}/test
// is post_webhooks_webhook_test.
func corpusName(r adminRoute) string {
	path, _, _ := strings.Cut(strings.TrimPrefix(r.path, "/api/v1/"), "?")
	name := strings.ToLower(r.method) + "_" + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_").Replace(path)
	return name
}

// Markers for what json.Marshal cannot write: replaced in its output.
const (
	markSurrogate = "@@surrogate@@"
	markNotUTF8   = "@@not-utf8@@"
	markDeep      = "@@deep@@"
)

// bodyVariants derives the adversarial bodies of a route from its valid
// one: every string with NUL, an unpaired surrogate or a byte that is not
// UTF-8 appended, a key with an unpaired surrogate, every number huge,
// every value of the wrong type, and a value nested 5000 deep. A route
// that reads no body gets two, a NUL and deep nesting.
func bodyVariants(t *testing.T, valid string) map[string]string {
	t.Helper()
	bodiless := valid == ""
	if bodiless {
		valid = `{"x": "x"}`
	}
	dec := json.NewDecoder(strings.NewReader(valid))
	dec.UseNumber()
	var doc map[string]any
	require.NoError(t, dec.Decode(&doc), valid)
	marshal := func(v any) string {
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		return strings.NewReplacer(markSurrogate, `\ud800`, markNotUTF8, "\xff",
			`"`+markDeep+`"`, strings.Repeat("[", 5000)+strings.Repeat("]", 5000)).Replace(string(raw))
	}
	appendTo := func(suffix string) func(any) any {
		return func(v any) any {
			if s, ok := v.(string); ok {
				return s + suffix
			}
			return v
		}
	}
	withKey := map[string]any{markSurrogate: 1}
	for k, v := range doc {
		withKey[k] = v
	}
	var first string
	for k := range doc {
		if first == "" || k < first {
			first = k
		}
	}
	deep := map[string]any{}
	for k, v := range doc {
		deep[k] = v
	}
	deep[first] = markDeep
	if bodiless {
		return map[string]string{"nul": marshal(mapValues(doc, appendTo("\x00"))), "deep": marshal(deep)}
	}
	return map[string]string{
		"nul":        marshal(mapValues(doc, appendTo("\x00"))),
		"surrogate":  marshal(mapValues(doc, appendTo(markSurrogate))),
		"not_utf8":   marshal(mapValues(doc, appendTo(markNotUTF8))),
		"key":        marshal(withKey),
		"huge":       marshal(mapValues(doc, hugeNumber)),
		"wrong_type": marshal(mapValues(doc, wrongType)),
		"deep":       marshal(deep),
	}
}

// mapValues returns v with f applied to every value below the root.
func mapValues(v any, f func(any) any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = f(mapValues(e, f))
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = f(mapValues(e, f))
		}
		return out
	}
	return v
}

func hugeNumber(v any) any {
	if _, ok := v.(json.Number); ok {
		return json.Number("1e999")
	}
	return v
}

// wrongType swaps a value for one of another type.
func wrongType(v any) any {
	switch v.(type) {
	case string:
		return json.Number("123456789012345678901234567890")
	case json.Number:
		return "7"
	case bool:
		return "true"
	case []any:
		return map[string]any{"0": "x"}
	case map[string]any:
		return []any{"x"}
	}
	return v
}
