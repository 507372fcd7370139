package app_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/app/ingest"
)

// floodSize is how many malformed requests TestIngestMalformedFlood sends.
const floodSize = 3000

// floodValid and floodForm are valid ingest bodies the malformed ones are
// made from, so that each is wrong in one known way.
const (
	floodValid = `{"event": "Added to Cart", "event_id": "ord-8812", "timestamp": 1669996085,` +
		` "properties": {"items": [{"sku": "A1", "qty": 2}], "ip_addr": "106.51.148.72"},` +
		` "user": {"email": "rmt@example.com", "first_name": "RMT", "external_id": "u-1"}}`
	floodForm = `event=Added+to+Cart&event_id=f-1&email=rmt%40example.com&msgid=546`
	jsonType  = "application/json"
	formType  = "application/x-www-form-urlencoded"
)

// badRequest is one malformed ingest request and the answer it must get.
type badRequest struct {
	kind        string // what is wrong with it, for the tally and failures
	auth        string // the Authorization header; "" sends none
	source      string
	contentType string
	body        []byte
	hideLength  bool // send it chunked, so the 1 MiB cap is met while reading
	status      int
	want        string // the exact JSON answer; "" checks only that it is JSON with an error
}

// TestIngestMalformedFlood sends a few thousand malformed ingest requests
// to a running Herald and proves they change nothing: each gets its
// documented 4xx (never a 5xx, never a 429), no row is written anywhere,
// and a valid event sent afterwards still goes all the way to a webhook.
func TestIngestMalformedFlood(t *testing.T) {
	t.Parallel()
	// The default limit (1000 a minute) would answer 429 part-way through.
	env := apptest.Start(t, apptest.Options{IngestRateLimit: 100 * floodSize})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Flood", recv.URL, map[string]any{"batch_wait_ms": 0})
	// Any malformed event that slipped through as an "Added to Cart" would
	// also start a run and write a delivery.
	env.LiveJourney(fmt.Sprintf(`{"name": "Cart added", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "event_params": ["email"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))
	key := env.IngestKey()
	seed := uint64(time.Now().UnixNano()) // logged: set it to a failing run's to replay that run
	reqs := malformedRequests(t, rand.New(rand.NewPCG(seed, 7)), key, env.Token)
	t.Logf("seed %d; %d requests: %v", seed, len(reqs), tally(reqs))
	before := rowCounts(t, env)

	start := time.Now()
	answers := sendAll(t, env.URL, reqs)
	elapsed := time.Since(start)
	t.Logf("sent in %v (%.0f requests/s)", elapsed.Round(time.Millisecond), float64(len(reqs))/elapsed.Seconds())

	var wrong []string
	statuses := map[int]int{}
	for i, r := range reqs {
		a := answers[i]
		statuses[a.status]++
		if a.err == nil && a.status == r.status && answerMatches(r.want, a.body) {
			continue
		}
		wrong = append(wrong, fmt.Sprintf("%s (source %q, %s): %.100q → %d %s (error %v), want %d %s",
			r.kind, r.source, r.contentType, r.body, a.status, a.body, a.err, r.status, r.want))
	}
	t.Logf("answers by status: %v", statuses)
	if len(wrong) > 0 {
		t.Fatalf("seed %d: %d malformed requests were answered otherwise than documented, such as\n%s",
			seed, len(wrong), strings.Join(wrong[:min(len(wrong), 10)], "\n"))
	}
	require.Equal(t, before, rowCounts(t, env), "malformed requests wrote rows")

	code, raw := env.Ingest(key, "crm", map[string]any{"event": "Added to Cart", "event_id": "after-flood",
		"user": map[string]any{"email": "after@example.com"}}, "")
	require.Equal(t, 200, code, raw)
	recv.WaitFor(t, 15*time.Second, "the journey's webhook", func() bool { return len(recv.Delivered()) == 1 })
	after := rowCounts(t, env)
	for _, table := range []string{"events", "contacts", "journey_runs", "deliveries"} {
		require.Equal(t, before[table]+1, after[table], "the valid event after the flood made one row in %s", table)
	}
}

// rowCounts counts the rows of every table an ingest request can lead to.
func rowCounts(t *testing.T, env *apptest.Env) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"events", "contacts", "journey_runs", "deliveries", "attempts"} {
		var n int64
		require.NoError(t, env.Store.DBForTest().Table(table).Count(&n).Error)
		out[table] = n
	}
	return out
}

func tally(reqs []badRequest) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.kind]++
	}
	return out
}

// answerMatches compares a JSON answer with the expected one; an empty want
// accepts any JSON object with an error.
func answerMatches(want, got string) bool {
	var g map[string]any
	if json.Unmarshal([]byte(got), &g) != nil {
		return false
	}
	if want == "" {
		return g["error"] != nil && g["error"] != ""
	}
	var w map[string]any
	return json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(w, g)
}

type answer struct {
	status int
	body   string
	err    error
}

// sendAll sends the requests from a few goroutines, as many clients would.
func sendAll(t *testing.T, base string, reqs []badRequest) []answer {
	t.Helper()
	const workers = 8
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	out := make([]answer, len(reqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out[i] = sendOne(client, base, reqs[i])
			}
		})
	}
	for i := range reqs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func sendOne(client *http.Client, base string, r badRequest) answer {
	var body io.Reader = bytes.NewReader(r.body)
	if r.hideLength {
		body = io.MultiReader(body) // a reader whose length http.NewRequest cannot see
	}
	req, err := http.NewRequest(http.MethodPost, base+"/v1/webhook/"+url.PathEscape(r.source), body)
	if err != nil {
		return answer{err: err}
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	req.Header.Set("Content-Type", r.contentType)
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(raw), err: err}
}

// flood builds the malformed requests.
type flood struct {
	t    *testing.T
	rnd  *rand.Rand
	key  string
	reqs []badRequest
}

// malformedRequests returns floodSize requests that are each wrong in one
// way: programmatic cases of every documented refusal first, then random
// mutations of floodValid that the parser refuses.
func malformedRequests(t *testing.T, rnd *rand.Rand, key, adminToken string) []badRequest {
	t.Helper()
	f := &flood{t: t, rnd: rnd, key: key}
	f.auth(adminToken)
	f.sources()
	f.oversized()
	f.wrongFields()
	f.shapes()
	f.encodings()
	f.forms()
	for i := 0; len(f.reqs) < floodSize; i++ {
		require.Less(t, i, 100*floodSize, "mutations of a valid body are seldom invalid")
		f.tryBody("mutation", jsonType, f.mutate([]byte(floodValid)))
	}
	return f.reqs[:floodSize]
}

// tryBody adds a request with a good key whose body the parser refuses,
// and reports whether it did; the answer carries the parser's own detail.
func (f *flood) tryBody(kind, contentType string, body []byte) bool {
	_, err := ingest.Parse(contentType, body, time.Now())
	if err == nil {
		return false
	}
	f.reqs = append(f.reqs, badRequest{kind: kind, auth: "Bearer " + f.key, source: "crm", contentType: contentType,
		body: body, status: http.StatusBadRequest, want: invalidPayload(err.Error())})
	return true
}

// body is tryBody for a case meant to be invalid: one the parser accepts is
// a mistake in this test.
func (f *flood) body(kind, contentType string, body []byte) {
	f.t.Helper()
	if !f.tryBody(kind, contentType, body) {
		f.t.Fatalf("%s: the parser accepts %.200q", kind, body)
	}
}

func invalidPayload(detail string) string {
	b, _ := json.Marshal(map[string]string{"error": "Invalid payload", "detail": detail})
	return string(b)
}

// auth: a valid body with no key, a wrong one or the wrong kind of token.
func (f *flood) auth(adminToken string) {
	wrong := []string{"", "Bearer", "Bearer ", "Bearer " + f.key[:len(f.key)-1], "Bearer " + f.key + "0",
		"Bearer " + adminToken, "Basic " + base64.StdEncoding.EncodeToString([]byte(f.key+":")), "Token " + f.key,
		"Bearer" + f.key, f.key}
	for i := range 150 {
		auth := "Bearer sk_live_" + fmt.Sprintf("%016x", f.rnd.Uint64())
		if i < len(wrong) {
			auth = wrong[i]
		}
		f.reqs = append(f.reqs, badRequest{kind: "auth", auth: auth, source: "crm", contentType: jsonType,
			body: []byte(floodValid), status: http.StatusUnauthorized, want: `{"error": "Unauthorized"}`})
	}
}

// sources: a valid body and key, with a source label outside the pattern.
func (f *flood) sources() {
	bad := []string{"bad source!", "-crm", "_crm", ".crm", "crm!", "crm?x=1", "crm#a", "c m", "crm@host",
		"crm%", "crm✓", "ünï", "crm\x00", "crm\n", strings.Repeat("a", 65)}
	want := invalidPayload("the source in the path must be 1-64 letters, digits, '_', '-' or '.'")
	for i := range 100 {
		f.reqs = append(f.reqs, badRequest{kind: "source", auth: "Bearer " + f.key, source: bad[i%len(bad)],
			contentType: jsonType, body: []byte(floodValid), status: http.StatusBadRequest, want: want})
	}
}

// oversized: valid JSON just over the 1 MiB cap, with its length declared
// (refused before reading) or chunked (refused while reading).
func (f *flood) oversized() {
	for i := range 20 {
		pad := strings.Repeat("a", 1<<20+f.rnd.IntN(1000))
		f.reqs = append(f.reqs, badRequest{kind: "oversized", auth: "Bearer " + f.key, source: "crm",
			contentType: jsonType, body: []byte(`{"event": "x", "properties": {"blob": "` + pad + `"}}`),
			hideLength: i%2 == 1, status: http.StatusRequestEntityTooLarge})
	}
}

// wrongFields: floodValid with one field of the wrong type or out of
// range, alone and at every place in a batch of three.
func (f *flood) wrongFields() {
	tomorrowPlus := time.Now().Add(48 * time.Hour)
	bad := []struct {
		path   []string
		values []any
	}{
		{[]string{"event"}, []any{nil, 1, true, "", "   ", []any{"x"}, map[string]any{}, strings.Repeat("e", 201)}},
		{[]string{"event_id"}, []any{true, []any{"a"}, map[string]any{}, strings.Repeat("i", 201)}},
		{[]string{"timestamp"}, []any{"yesterday", 1000, 99999999999999, "2026-13-01T00:00:00Z", "", true,
			map[string]any{}, -5, tomorrowPlus.Unix(), tomorrowPlus.Format(time.RFC3339), "1999-12-31T23:59:59Z"}},
		{[]string{"properties"}, []any{[]any{1}, "x", 3, true}},
		{[]string{"user"}, []any{"me", []any{"a@b.com"}, 7, false}},
		{[]string{"user", "email"}, []any{"not-an-address", "a@b", "@example.com", "a b@example.com"}},
	}
	for _, b := range bad {
		for _, v := range b.values {
			ev := withField(f.t, b.path, v)
			kind := "wrong " + strings.Join(b.path, ".")
			f.body(kind, jsonType, ev)
			for at := range 3 {
				batch := []json.RawMessage{[]byte(floodValid), []byte(floodValid), []byte(floodValid)}
				batch[at] = ev
				raw, _ := json.Marshal(batch)
				f.body(kind, jsonType, raw)
			}
		}
	}
	f.body("no event", jsonType, []byte(`{"properties": {}, "user": {"email": "a@b.com"}}`))
}

// withField returns floodValid with the field at path set to v.
func withField(t *testing.T, path []string, v any) []byte {
	t.Helper()
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(floodValid), &ev))
	m := ev
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	m[path[len(path)-1]] = v
	raw, err := json.Marshal(ev)
	require.NoError(t, err)
	return raw
}

// shapes: bodies that are not an event or a batch of up to 1000: cut
// short, not objects, empty or too long arrays, data after the JSON, and
// nesting deeper than the decoder allows.
func (f *flood) shapes() {
	for n := range len(floodValid) {
		f.body("truncated", jsonType, []byte(floodValid[:n]))
	}
	for _, b := range []string{`7`, `"x"`, `true`, `null`, `-1`, `1e999`, `[]`, ` [ ] `, "[\n]",
		`[{"event": "ok"}, "x"]`, `[{"event": "ok"}, 1]`, `[{"event": "ok"}, null]`, `[{"event": "ok"}, []]`,
		floodValid + ` {}`, floodValid + `x`, floodValid + `]`, floodValid + floodValid, `{"event": "a",}`,
		`{'event': 'a'}`, `{event: "a"}`, `{"event": "a" "x": 1}`} {
		f.body("shape", jsonType, []byte(b))
	}
	for n := range 10 {
		f.body("over 1000 events", jsonType, []byte("["+strings.Repeat(`{"event": "x"},`, 1000+n)+`{"event": "x"}]`))
	}
	for range 10 {
		depth := 10_001 + f.rnd.IntN(5000) // the decoder stops at 10,000
		f.body("too deep", jsonType, []byte(`{"event": "x", "properties": {"a": `+
			strings.Repeat("[", depth)+strings.Repeat("]", depth)+`}}`))
		f.body("unclosed", jsonType, []byte(`{"event": "x", "properties": {"a": `+strings.Repeat("[", 1+f.rnd.IntN(5000))))
	}
}

// encodings: text PostgreSQL cannot store: bytes that are not UTF-8, NUL
// escapes, and raw control bytes inside strings.
func (f *flood) encodings() {
	for range 100 {
		// A byte of 0x80 or more followed by an ASCII one is never UTF-8.
		at := f.rnd.IntN(len(floodValid))
		f.body("not UTF-8", jsonType, []byte(floodValid[:at]+string([]byte{byte(0x80 + f.rnd.IntN(0x80))})+floodValid[at:]))
	}
	for _, s := range []string{`"RMT"`, `"Added to Cart"`, `"ip_addr"`, `"ord-8812"`, `"A1"`, `"u-1"`} {
		f.body("NUL", jsonType, []byte(strings.Replace(floodValid, s, s[:2]+`\u0000`+s[2:], 1)))
	}
	for range 50 {
		// A raw control byte is invalid JSON inside a string and between
		// tokens, except for the three blanks JSON allows there.
		at := f.rnd.IntN(len(floodValid))
		c := byte(f.rnd.IntN(0x20))
		if c == '\t' || c == '\n' || c == '\r' {
			c = 0
		}
		f.body("control byte", jsonType, []byte(floodValid[:at]+string([]byte{c})+floodValid[at:]))
	}
}

// forms: form bodies with broken escapes, semicolons, a data= field that
// is not JSON, flat fields without an event or with bad values, and a form
// sent with another content type (read as JSON).
func (f *flood) forms() {
	for range 100 {
		// "%" and a letter past f is never an escape, wherever it goes.
		at := f.rnd.IntN(len(floodForm) + 1)
		f.body("form escape", formType, []byte(floodForm[:at]+"%"+string(rune('g'+f.rnd.IntN(20)))+floodForm[at:]))
	}
	fields := strings.Split(floodForm, "&")
	for n := 1; n < len(fields); n++ {
		semicolon := strings.Join(fields[:n], "&") + ";" + strings.Join(fields[n:], "&")
		f.body("form semicolon", formType, []byte(semicolon))
	}
	for range 50 {
		cut := floodValid[:f.rnd.IntN(len(floodValid))]
		f.body("form data", formType, []byte("data="+url.QueryEscape(cut)))
	}
	for _, b := range []string{"data=%7B%22event%2", "data=", "data=null", "data=%5B%5D", "email=a%40b.com",
		"event=&email=a%40b.com", "event=x&timestamp=yesterday", "event=x&email=not-an-address", "event=%FF",
		"event=x&note=%00", "event=x&%ZZ=1", "%", "=%", "event=x;y"} {
		f.body("form", formType, []byte(b))
	}
	for _, ct := range []string{"text/plain", jsonType, "", "multipart/form-data; boundary=x", "application/xml"} {
		f.body("form as "+ct, ct, []byte(floodForm))
	}
}

// mutate changes one to three random bytes of b: deleted, replaced or
// inserted, favouring the bytes JSON's grammar turns on.
func (f *flood) mutate(b []byte) []byte {
	const grammar = `{}[]":,\ 0ex-.`
	out := bytes.Clone(b)
	for range 1 + f.rnd.IntN(3) {
		at := f.rnd.IntN(len(out))
		c := grammar[f.rnd.IntN(len(grammar))]
		if f.rnd.IntN(4) == 0 {
			c = byte(f.rnd.IntN(256))
		}
		switch f.rnd.IntN(3) {
		case 0:
			out = append(out[:at], out[at+1:]...)
		case 1:
			out[at] = c
		default:
			out = append(out[:at], append([]byte{c}, out[at:]...)...)
		}
	}
	return out
}
