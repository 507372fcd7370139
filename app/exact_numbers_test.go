package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Numbers reach receivers and contacts with the digits they were sent
// with, whether the webhook step comes at once or after a wait: an id of
// 20 digits is not rounded to a float's 17, and a number too large for a
// float is kept rather than turned into null. (Processing decoded events,
// contacts and runs into float64: 12345678901234567890 went out as
// 12345678901234567000, and 1e400 as null.)
func TestNumbersKeepTheirDigitsThroughJourneys(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	for _, j := range []struct{ name, event, path string }{
		{"At once", "Placed Order", `{"id": "start", "type": "trigger", "event": "Placed Order", "next": "hook"}`},
		{"After a wait", "Placed Order", `{"id": "start", "type": "trigger", "event": "Placed Order", "next": "wait"},
		  {"id": "wait", "type": "wait_for_event", "event": "Never", "within": "2s", "happened": "end", "timeout": "hook"}`},
	} {
		env.LiveJourney(fmt.Sprintf(`{"name": %q, "nodes": [%s,
		  {"id": "hook", "type": "webhook", "webhook_id": %d, "att_params": ["ACCOUNT", "HUGE"], "next": "end"},
		  {"id": "end", "type": "stop"}]}`, j.name, j.path, hook))
	}
	code, raw := env.Ingest(key, "shop", `{"event": "Placed Order", "event_id": "o-1",
	  "properties": {"order_id": 12345678901234567890, "huge": 1e400, "price": 19.90},
	  "user": {"email": "ann@example.com", "account": 98765432109876543210, "huge": 2e400}}`, "application/json")
	require.Equal(t, 200, code, raw)

	// (The receiver's own decoding of items cannot hold 1e400: count requests.)
	recv.WaitFor(t, 15*time.Second, "both journeys' webhooks", func() bool { return len(recv.Requests()) == 2 })
	for _, req := range recv.Requests() {
		form, err := url.ParseQuery(string(req.Body))
		require.NoError(t, err)
		data := form.Get("data")
		// (PostgreSQL keeps 1e400 as the number it is, written out in full.)
		for _, digits := range []string{`"order_id":12345678901234567890`, `"huge":1` + strings.Repeat("0", 400), `"price":19.90`,
			`"ACCOUNT":98765432109876543210`, `"HUGE":2` + strings.Repeat("0", 400)} {
			require.Contains(t, data, digits)
		}
	}
	var attrs string
	require.NoError(t, env.Store.SQLDB().QueryRowContext(context.Background(),
		`SELECT attributes->>'ACCOUNT' || ' ' || (attributes->>'HUGE') FROM contacts WHERE email = 'ann@example.com'`).Scan(&attrs))
	require.Equal(t, "98765432109876543210 2"+strings.Repeat("0", 400), attrs)
}

// The admin API keeps a contact attribute's digits as ingest does: it
// decoded attributes into float64, so 12345678901234567890 was stored as
// 12345678901234567000, over the exact value an event had set.
func TestContactAPIKeepsAttributeDigits(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	code, raw := env.Call("POST", "/api/v1/contacts",
		`{"email": "num@example.com", "attributes": {"account": 12345678901234567890, "huge": 1e400, "price": 19.90}}`, nil)
	require.Equal(t, 200, code, raw)
	for _, want := range []string{`"ACCOUNT":12345678901234567890`, `"HUGE":1e400`, `"PRICE":19.90`} {
		require.Contains(t, raw, want)
	}
	code, raw = env.Call("GET", "/api/v1/contacts?email=num@example.com", nil, nil)
	require.Equal(t, 200, code, raw)
	require.Contains(t, raw, `"ACCOUNT":12345678901234567890`, "as stored")

	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "num@example.com", "attributes": [1]}`, nil)
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "attributes")
}

// A number jsonb would write out far longer than it was sent is a 400,
// through ingest and the admin API, and nothing is stored (found by
// review: 200 attributes of 1e131000, a 3 KB event, made a contact that
// read back as 26 MB on every later event; 1e1000s, each under the bound,
// read back 143 times larger).
func TestNumbersWrittenOutTooLongAreRefused(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	code, raw := env.Ingest(env.IngestKey(), "shop", `{"event": "x", "event_id": "huge",
	  "user": {"email": "huge@example.com", "score": 1e131000}}`, "application/json")
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "user.score: is a number with an exponent over 1000")
	many := "[" + strings.Repeat("1e1000,", 99) + "1e1000]"
	code, raw = env.Ingest(env.IngestKey(), "shop", `[{"event": "x", "event_id": "ok"}, {"event": "x", "event_id": "many",
	  "properties": {"n": `+many+`}}]`, "application/json")
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "event 1: properties.n[")
	var events int64
	require.NoError(t, env.Store.DBForTest().Raw(`SELECT count(*) FROM events`).Scan(&events).Error)
	require.Zero(t, events, "nothing of a refused request is stored")

	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "huge@example.com", "attributes": {"score": 1E+5000}}`, nil)
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "score: is a number with an exponent over 1000")
	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "many@example.com", "attributes": {"n": `+many+`}}`, nil)
	require.Equal(t, 400, code, raw)
	var contact struct{ ID int64 }
	code, raw = env.Call("POST", "/api/v1/contacts", `{"email": "fine@example.com", "attributes": {"score": 1e1000, "none": 0e5000}}`, &contact)
	require.Equal(t, 200, code, raw)
	var zero string
	require.NoError(t, env.Store.DBForTest().Raw(`SELECT attributes->>'NONE' FROM contacts WHERE id = ?`, contact.ID).Scan(&zero).Error)
	require.Equal(t, "0", zero, "zero, whatever its exponent")
	code, raw = env.Call("PUT", fmt.Sprintf("/api/v1/contacts/%d/data/orders", contact.ID), `{"rows": [{"n": `+many+`}]}`, nil)
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "rows[0]")
	// The table is one value: its rows share the budget.
	code, raw = env.Call("PUT", fmt.Sprintf("/api/v1/contacts/%d/data/orders", contact.ID),
		`{"rows": [{"n": 1e1000}, {"n": 1e1000}, {"n": 1e1000}]}`, nil)
	require.Equal(t, 400, code, raw)
	require.Contains(t, raw, "rows[1]")
}

// A journey's definition is bounded the same way: its numbers go through
// float64, and 1e308 is stored as 1e+308 and read back as 309 digits on
// every load of the journey (found by review: 3,000 filter values, 18 KB
// sent, 933 KB read back). Ordinary numbers pass.
func TestJourneyDefinitionNumbersAreBounded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	journey := func(name, values string) string {
		return `{"name": "` + name + `", "nodes": [{"id": "start", "type": "trigger", "event": "x",
		  "filters": [{"property": "p", "op": "in", "value": [` + values + `]}], "next": "end"}, {"id": "end", "type": "stop"}]}`
	}
	code, raw := env.Call("POST", "/api/v1/journeys", journey("huge", strings.TrimSuffix(strings.Repeat("1e308,", 3000), ",")), nil)
	require.Equal(t, 400, code, raw[:min(300, len(raw))])
	require.Contains(t, raw, "written out, the numbers would be far longer than the document")
	code, raw = env.Call("POST", "/api/v1/journeys", journey("fine", "1, 2.5, 1e21, 1e308"), nil)
	require.Equal(t, 201, code, raw)
}
