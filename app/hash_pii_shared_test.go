package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// One event starts two journeys. Journey 1 (created first, so processed
// first) sends it to a webhook with hash_pii on; journey 2 sends it to a
// webhook with hash_pii off, then waits (so its run state is stored). The
// event carries PII nested in its properties and in a user attribute.
// Webhook 2 gets the clear values, and nothing stored is hashed. (Hashing
// in place, found by a helper's review, gave webhook 2 and journey 2's
// saved state the values webhook 1 had hashed.)
func TestHashPIISharedNestedValues(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recvHashed, recvClear := apptest.NewReceiver(t), apptest.NewReceiver(t)
	hashed := env.ActiveWebhook("Hashed", recvHashed.URL, map[string]any{"batch_wait_ms": 0, "hash_pii": true})
	clear := env.ActiveWebhook("Clear", recvClear.URL, map[string]any{"batch_wait_ms": 0})
	key := env.IngestKey()

	j1 := env.LiveJourney(fmt.Sprintf(`{"name": "J1 hashed", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Purchased", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "att_params": ["BILLING"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hashed))
	j2 := env.LiveJourney(fmt.Sprintf(`{"name": "J2 clear", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Purchased", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "att_params": ["BILLING"], "next": "wait"},
	  {"id": "wait", "type": "wait_for_event", "event": "Never", "within": "1h", "happened": "end", "timeout": "end"},
	  {"id": "end", "type": "stop"}]}`, clear))
	require.Less(t, j1, j2)

	code, raw := env.Ingest(key, "web", map[string]any{
		"event": "Purchased", "event_id": "evt-pii-1",
		"properties": map[string]any{"customer": map[string]any{"email": "ann@example.com"}},
		"user":       map[string]any{"email": "ann@example.com", "billing": map[string]any{"email": "bill@example.com"}},
	}, "")
	require.Equal(t, 200, code, raw)

	recvHashed.WaitFor(t, 10*time.Second, "hashed webhook", func() bool { return len(recvHashed.Delivered()) == 1 })
	recvClear.WaitFor(t, 10*time.Second, "clear webhook", func() bool { return len(recvClear.Delivered()) == 1 })

	h := recvHashed.Requests()[0].Items[0]
	c := recvClear.Requests()[0].Items[0]
	t.Logf("hashed webhook payload_params=%v att_params=%v", h["payload_params"], h["att_params"])
	t.Logf("clear  webhook payload_params=%v att_params=%v", c["payload_params"], c["att_params"])

	// The hashed webhook: hashed once.
	require.Equal(t, map[string]any{"customer": map[string]any{"email": sha("ann@example.com")}}, h["payload_params"])
	require.Equal(t, map[string]any{"BILLING": map[string]any{"email": sha("bill@example.com")}}, h["att_params"])

	// What is stored.
	var state, props, attrs string
	db := env.Store.DBForTest()
	require.NoError(t, db.Raw(`SELECT state::text FROM journey_runs WHERE journey_id = ?`, j2).Scan(&state).Error)
	require.NoError(t, db.Raw(`SELECT properties::text FROM events WHERE event_id = 'evt-pii-1'`).Scan(&props).Error)
	require.NoError(t, db.Raw(`SELECT attributes::text FROM contacts`).Scan(&attrs).Error)
	t.Logf("journey_runs.state (J2) = %s", state)
	t.Logf("events.properties       = %s", props)
	t.Logf("contacts.attributes     = %s", attrs)
	require.Contains(t, props, "ann@example.com")
	require.Contains(t, attrs, "bill@example.com")

	// The clear webhook must get the clear values, and J2's stored state
	// must hold the event as it came.
	assert.Equal(t, map[string]any{"customer": map[string]any{"email": "ann@example.com"}}, c["payload_params"],
		"webhook without hash_pii got nested event properties hashed by the other journey's webhook")
	assert.Equal(t, map[string]any{"BILLING": map[string]any{"email": "bill@example.com"}}, c["att_params"],
		"webhook without hash_pii got a nested contact attribute hashed by the other journey's webhook")
	assert.Contains(t, state, "ann@example.com", "J2's stored run state holds the hashed event")
}

// One journey with two webhook nodes in a row, both hash_pii on: every
// item's values are hashed once. (In place, the second node's item hashed
// the event's shared nested map again, and a nested custom param was hashed
// in the cached journey definition, so the next run sent hash(hash(...)).)
func TestHashPIIHashedTwice(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Hashed", recv.URL, map[string]any{"batch_wait_ms": 0, "hash_pii": true})
	key := env.IngestKey()
	env.LiveJourney(fmt.Sprintf(`{"name": "Twice", "reentry": "always", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Purchased", "next": "a"},
	  {"id": "a", "type": "webhook", "webhook_id": %[1]d, "custom_params": {"owner": {"email": "ops@example.com"}}, "next": "b"},
	  {"id": "b", "type": "webhook", "webhook_id": %[1]d, "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))

	for i, who := range []string{"ann@example.com", "bob@example.com"} {
		code, raw := env.Ingest(key, "web", map[string]any{
			"event": "Purchased", "event_id": fmt.Sprintf("evt-twice-%d", i),
			"properties": map[string]any{"customer": map[string]any{"email": who}},
			"user":       map[string]any{"email": who},
		}, "")
		require.Equal(t, 200, code, raw)
		env.WaitProcessed() // separate batches
	}
	recv.WaitFor(t, 10*time.Second, "4 items", func() bool {
		n := 0
		for _, r := range recv.Requests() {
			n += len(r.Items)
		}
		return n == 4
	})
	var items []map[string]any
	for _, r := range recv.Requests() {
		items = append(items, r.Items...)
	}
	bad := 0
	for _, it := range items {
		pp := it["payload_params"].(map[string]any)["customer"].(map[string]any)["email"]
		cp := it["custom_params"]
		t.Logf("event_params=%v payload customer.email=%v custom_params=%v", it["event_params"], pp, cp)
		if pp != sha("ann@example.com") && pp != sha("bob@example.com") {
			bad++
		}
		if owner, ok := cp.(map[string]any)["owner"]; ok && owner.(map[string]any)["email"] != sha("ops@example.com") {
			bad++
		}
	}
	require.Zero(t, bad, "values hashed more than once (sha(ann)=%s sha(ops)=%s)", sha("ann@example.com"), sha("ops@example.com"))
}
