package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// An asset subscribed to event names receives each matching ingested event
// without a journey: from ingest through the outbox to a loopback receiver.
// Only tested assets receive, and another panel's events never match.
func TestSubscriptionFromIngestToReceiver(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Visits", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1, "subscriptions": []any{
		map[string]any{"event": "NEW_VISIT"},
		map[string]any{"event": "click", "source": "esp", "channel": "email"},
	}})
	var shown struct {
		Subscriptions []models.Subscription `json:"subscriptions"`
	}
	env.Call("GET", hookPath(hook, ""), nil, &shown)
	require.Equal(t, []models.Subscription{{Event: "NEW_VISIT"}, {Event: "click", Source: "esp", Channel: "email"}}, shown.Subscriptions)

	// Subscribed but never tested: it receives nothing.
	untestedRecv := apptest.NewReceiver(t)
	code, raw := env.Call("POST", "/api/v1/webhooks", map[string]any{"label": "Untested", "url": untestedRecv.URL,
		"batch_wait_ms": 0, "subscriptions": []any{map[string]any{"event": "NEW_VISIT"}}}, nil)
	require.Equal(t, http.StatusCreated, code, raw)

	// Another panel sends the same event name first.
	otherToken := env.TokenFor("subscription_other")
	var otherKey struct{ Key string }
	code, raw = env.CallAs(otherToken, "POST", "/api/v1/ingest-keys", map[string]any{}, &otherKey)
	require.Equal(t, http.StatusCreated, code, raw)
	code, raw = env.Ingest(otherKey.Key, "web", map[string]any{"event": "NEW_VISIT", "event_id": "other-visit"}, "")
	require.Equal(t, 200, code, raw)
	processedEvent(t, env, "other-visit")

	key := env.IngestKey()
	for _, ev := range []map[string]any{
		// No user at all: subscriptions deliver it all the same.
		{"event": "NEW_VISIT", "event_id": "v1", "timestamp": 1669996085,
			"properties": map[string]any{"page": "/pricing", "visitor_id": json.Number("12345678901234567890")}},
		{"event": "Added to Cart", "event_id": "cart-1", "user": map[string]any{"email": "a@example.com"}}, // not subscribed
		{"event": "new_visit", "event_id": "v2", "email": "a@example.com", "firstName": "Ann"},             // names compare without case
		{"event": "click", "event_id": "c-crm", "properties": map[string]any{"channel": "email"}},          // another source
	} {
		source := "web"
		if ev["event_id"] == "c-crm" {
			source = "crm"
		}
		code, raw := env.Ingest(key, source, ev, "")
		require.Equal(t, 200, code, raw)
	}
	code, raw = env.Ingest(key, "esp", map[string]any{"event": "click", "event_id": "c-esp",
		"properties": map[string]any{"channel": "email", "msgid": "546", "url": "https://shop.example/"}}, "")
	require.Equal(t, 200, code, raw)
	for _, id := range []string{"v1", "cart-1", "v2", "c-crm", "c-esp"} {
		processedEvent(t, env, id)
	}

	recv.WaitFor(t, 10*time.Second, "three subscribed events", func() bool { return len(recv.Delivered()) == 3 })
	// One item a request (batch_size 1); events of different users are
	// processed side by side, so they are looked up by event_id.
	items, bodies := map[string]map[string]any{}, map[string]string{}
	for _, r := range recv.Requests() {
		t.Logf("the receiver saw: Content-Type: %s\n%s", r.Header.Get("Content-Type"), r.Body)
		require.Len(t, r.Items, 1)
		form, err := url.ParseQuery(string(r.Body))
		require.NoError(t, err)
		id, _ := r.Items[0]["event_id"].(string)
		items[id], bodies[id] = r.Items[0], form.Get("data")
	}
	require.Len(t, items, 3)
	require.JSONEq(t, `{"`+env.Panel.Name+`": [{"delivery_id": "`+items["v1"]["delivery_id"].(string)+`",
	  "event": "NEW_VISIT", "event_id": "v1", "source": "web", "timestamp": "2022-12-02T15:48:05Z",
	  "properties": {"page": "/pricing", "visitor_id": 12345678901234567890}}]}`, bodies["v1"])
	require.Contains(t, bodies["v1"], `"visitor_id":12345678901234567890`, "numbers keep their digits")
	require.Equal(t, map[string]any{"email": "a@example.com"}, items["v2"]["user"])
	require.Equal(t, map[string]any{"EMAIL": "a@example.com", "FIRSTNAME": "Ann"}, items["v2"]["attributes"])
	require.Equal(t, "email", items["c-esp"]["channel"])
	require.Equal(t, "546", items["c-esp"]["msgid"])

	var n int64
	require.NoError(t, env.Store.DBForTest().Model(&models.Delivery{}).Where("panel_id = ?", env.Panel.ID).Count(&n).Error)
	require.EqualValues(t, 3, n, "the untested asset and the other panel's event got no delivery")
	require.Empty(t, untestedRecv.Requests())
}

// Subscriptions are checked on save: a 400 naming the field, and nothing
// changes.
func TestSubscriptionValidation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Subscribed", recv.URL, map[string]any{"subscriptions": []any{map[string]any{"event": "NEW_VISIT"}}})
	// Refused in parallel, each on its own; the group ends when all have.
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			subs  any
			field string
		}{
			{"no event", []any{map[string]any{"event": " "}}, "subscriptions[0].event"},
			{"bad channel", []any{map[string]any{"event": "open", "channel": "fax"}}, "subscriptions[0].channel"},
			{"bad source", []any{map[string]any{"event": "open"}, map[string]any{"event": "open", "source": "a b"}}, "subscriptions[1].source"},
			{"twice", []any{map[string]any{"event": "open"}, map[string]any{"event": "OPEN"}}, "subscriptions[1]"},
			{"long name", []any{map[string]any{"event": strings.Repeat("x", 201)}}, "subscriptions[0].event"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				var e struct{ Error, Field string }
				code, raw := env.Call("PATCH", hookPath(hook, ""), map[string]any{"subscriptions": tc.subs}, &e)
				require.Equal(t, http.StatusBadRequest, code, raw)
				require.Equal(t, tc.field, e.Field, raw)
			})
		}
	})
	var shown struct {
		Subscriptions []models.Subscription `json:"subscriptions"`
		Status        string                `json:"status"`
	}
	env.Call("GET", hookPath(hook, ""), nil, &shown)
	require.Equal(t, []models.Subscription{{Event: "NEW_VISIT"}}, shown.Subscriptions)
	require.Equal(t, "active", shown.Status, "a subscription needs no new test")

	code, raw := env.Call("PATCH", hookPath(hook, ""), map[string]any{"subscriptions": []any{}}, &shown)
	require.Equal(t, http.StatusOK, code, raw)
	require.Empty(t, shown.Subscriptions)
}

// With body_format json and batch_size 1 a subscribed asset receives the
// event exactly as the sender wrote it: key order, spacing, the timestamp
// as sent, no delivery_id; alone or inside an array.
func TestSubscriptionJSONSendsTheEventUnchanged(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	env.ActiveWebhook("Visits as JSON", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1, "body_format": "json",
		"subscriptions": []any{map[string]any{"event": "NEW_VISIT"}}})
	key := env.IngestKey()
	alone := `{"timestamp": 1669996085, "event": "NEW_VISIT",  "event_id": "raw-1", "email": "a@example.com",` +
		` "properties": {"z": 1.50, "a": 12345678901234567890, "page": "/pricing"}, "firstName": "Ann"}`
	first := `{"event":"NEW_VISIT","event_id":"raw-2","user":{"external_id":"u-2"},"visitor_id":7}`
	second := `{ "properties" : { "b" : [ 1, 2 ] }, "event_id" : "raw-3", "event" : "NEW_VISIT" }`
	code, raw := env.Ingest(key, "web", alone, "application/json")
	require.Equal(t, 200, code, raw)
	code, raw = env.Ingest(key, "web", "[\n  "+first+",\n  "+second+"\n]", "application/json")
	require.Equal(t, 200, code, raw)

	recv.WaitFor(t, 10*time.Second, "three subscribed events", func() bool { return len(recv.Delivered()) == 3 })
	got := map[string]bool{}
	for _, r := range recv.Requests() {
		t.Logf("the receiver saw: Content-Type: %s\n%s", r.Header.Get("Content-Type"), r.Body)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		got[string(r.Body)] = true
	}
	require.Equal(t, map[string]bool{alone: true, first: true, second: true}, got)

	// Processed, the event keeps no second copy of itself.
	for _, id := range []string{"raw-1", "raw-2", "raw-3"} {
		processedEvent(t, env, id)
		var left int64
		require.NoError(t, env.Store.DBForTest().Raw(`SELECT count(*) FROM events WHERE panel_id = ? AND event_id = ? AND raw IS NOT NULL`,
			env.Panel.ID, id).Scan(&left).Error)
		require.Zero(t, left, id)
	}
}
