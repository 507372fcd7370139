package app_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// journeyEnv is a Herald with an ingest key and an active webhook that
// sends at once to a receiver.
func journeyEnv(t *testing.T, opts apptest.Options) (*apptest.Env, *apptest.Receiver, string, int64) {
	t.Helper()
	env := apptest.Start(t, opts)
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Journey Webhook", recv.URL, map[string]any{"batch_wait_ms": 0})
	return env, recv, env.IngestKey(), hook
}

func ingestOK(t *testing.T, env *apptest.Env, key string, body any) {
	t.Helper()
	code, raw := env.Ingest(key, "mobile-app", body, "")
	require.Equal(t, 200, code, raw)
}

// Journey 1: a user performed an action → webhook. The receiver gets the
// batch item exactly as the node defines it.
func TestJourneyActionThenWebhook(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.LiveJourney(fmt.Sprintf(`{"name": "Cart added", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d,
	   "event_params": ["timestamp", "ts", "email", "foreignkey", "ip_addr"],
	   "att_params": ["EMAIL", "FIRSTNAME", "CITY"], "custom_params": {"Action": "Cart added"}, "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))

	ingestOK(t, env, key, map[string]any{
		"event": "Added to Cart", "event_id": "evt-1", "timestamp": 1669996085,
		"properties": map[string]any{"ip_addr": "106.51.148.72", "items": []any{map[string]any{"sku": "A1", "qty": 2}}},
		"user":       map[string]any{"email": "RMT@Example.com", "first_name": "RMT", "city": "Pune"},
	})
	recv.WaitFor(t, 10*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	req := recv.Requests()[0]
	form, err := url.ParseQuery(string(req.Body))
	require.NoError(t, err)
	require.JSONEq(t, `{"acme_prod": [{
	  "delivery_id": "`+req.DeliveryIDs()[0]+`", "webhook_name": "Journey Webhook", "msgid": "", "channel": "custom_activity",
	  "event": "Added to Cart", "journey_name": "Cart added",
	  "event_params": {"timestamp": "2022-12-02T15:48:05", "ts": 221202154805, "email": "rmt@example.com",
	                   "foreignkey": "rmt@example.com", "ip_addr": "106.51.148.72"},
	  "custom_params": {"Action": "Cart added"},
	  "att_params": {"EMAIL": "rmt@example.com", "FIRSTNAME": "RMT", "CITY": "Pune"},
	  "payload_params": {"ip_addr": "106.51.148.72", "items": [{"sku": "A1", "qty": 2}]}}]}`, form.Get("data"))
}

// Journey 2: a user performed several actions: opened an e-mail, then
// clicked a link in that same e-mail → webhook.
func TestJourneyOpenThenClick(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.LiveJourney(fmt.Sprintf(`{"name": "Engaged readers", "nodes": [
	  {"id": "open", "type": "trigger", "event": "open", "channel": "email", "next": "wait"},
	  {"id": "wait", "type": "wait_for_event", "event": "click", "channel": "email", "of_node": "open",
	   "within": "1h", "happened": "hook", "timeout": "end"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "event_params": ["email", "ip_addr"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))
	user := map[string]any{"email": "a@b.com"}
	ingestOK(t, env, key, map[string]any{"event": "open", "properties": map[string]any{"channel": "email", "msgid": "546"}, "user": user})
	// A click on another message does not count; the click on 546 does.
	ingestOK(t, env, key, []any{
		map[string]any{"event": "click", "properties": map[string]any{"channel": "email", "msgid": "999"}, "user": user},
		map[string]any{"event": "click", "properties": map[string]any{"channel": "email", "msgid": "546", "ip_addr": "1.2.3.4"}, "user": user},
	})
	recv.WaitFor(t, 10*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	it := recv.Requests()[0].Items[0]
	require.Equal(t, "click", it["event"])
	require.Equal(t, "546", it["msgid"])
	require.Equal(t, "email", it["channel"])
	require.Equal(t, map[string]any{"email": "a@b.com", "ip_addr": "1.2.3.4"}, it["event_params"])
}

const abandonedCart = `{"name": "Cart recovery", "nodes": [
  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "wait"},
  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "%s", "happened": "end", "timeout": "hook"},
  {"id": "hook", "type": "webhook", "webhook_id": %d, "event_params": ["email"], "att_params": ["EMAIL"],
   "custom_params": {"Action": "Cart abandoned"}, "next": "end"},
  {"id": "end", "type": "stop"}]}`

// Journey 3: a user performed an action but not another in time: added to
// cart, no order within the wait → webhook with the cart. A user who
// orders in time gets nothing.
func TestJourneyAbandonedCart(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.LiveJourney(fmt.Sprintf(abandonedCart, "2s", hook))
	cart := func(email string) map[string]any {
		return map[string]any{"event": "Added to Cart", "user": map[string]any{"email": email},
			"properties": map[string]any{"items": []any{map[string]any{"sku": "A1"}}}}
	}
	ingestOK(t, env, key, cart("leaves@example.com"))
	ingestOK(t, env, key, cart("buys@example.com"))
	ingestOK(t, env, key, map[string]any{"event": "Placed Order", "user": map[string]any{"email": "buys@example.com"}})

	recv.WaitFor(t, 15*time.Second, "the abandoned-cart webhook", func() bool { return len(recv.Delivered()) > 0 })
	it := recv.Requests()[0].Items[0]
	require.Equal(t, "Added to Cart", it["event"], "the item describes the abandoned cart")
	require.Equal(t, map[string]any{"email": "leaves@example.com"}, it["event_params"])
	require.Equal(t, map[string]any{"items": []any{map[string]any{"sku": "A1"}}}, it["payload_params"])
	env.WaitSettled(10 * time.Second) // the buyer's wait is over too (a run past its wait keeps Herald busy)
	require.Len(t, recv.Delivered(), 1, "the buyer's order ended the wait: %v", recv.Requests())

	var runs struct {
		Runs []struct{ Status, Node string }
	}
	env.Call("GET", "/api/v1/journeys/1/runs", nil, &runs)
	require.Len(t, runs.Runs, 2)
	for _, r := range runs.Runs {
		require.Equal(t, "completed", r.Status)
		require.Equal(t, "end", r.Node)
	}
}

// Journey 4: a user performed an action and matches attribute filters:
// purchased and lives in Canada → webhook.
func TestJourneyWithAttributeFilter(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	env.LiveJourney(fmt.Sprintf(`{"name": "Canadian buyers", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Purchased",
	   "filters": [{"attribute": "COUNTRY", "op": "eq", "value": "Canada"}, {"property": "total", "op": "gt", "value": 50}],
	   "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL", "COUNTRY"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))
	ingestOK(t, env, key, []any{
		map[string]any{"event": "Purchased", "properties": map[string]any{"total": 80}, "user": map[string]any{"email": "ca@x.com", "country": "Canada"}},
		map[string]any{"event": "Purchased", "properties": map[string]any{"total": 80}, "user": map[string]any{"email": "in@x.com", "country": "India"}},
		map[string]any{"event": "Purchased", "properties": map[string]any{"total": 20}, "user": map[string]any{"email": "small@x.com", "country": "Canada"}},
	})
	recv.WaitFor(t, 10*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	env.WaitSettled(10 * time.Second)
	require.Len(t, recv.Delivered(), 1, "only the Canadian with a large order")
	require.Equal(t, map[string]any{"EMAIL": "ca@x.com", "COUNTRY": "Canada"}, recv.Requests()[0].Items[0]["att_params"])
}
