package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// A template's contact holds all the contact's attributes, not only the
// node's att_params, read in the webhook's panel: another panel's contact
// with the same e-mail never shows. A subscribed event's template sees its
// contact too, hashed with hash_pii.
func TestTemplateSeesTheWholeContact(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	tpl := `{"city": {{ contact.CITY | json }}, "score": {{ contact.SCORE | json }}, "first": {{ contact.FIRSTNAME | json }},` +
		` "email": {{ contact.email | json }}, "external_id": {{ contact.external_id | json }}, "event": {{ event.name | json }},` +
		` "id": {{ delivery_id | json }}}` // the test request's id starts dlv_test_ (realRequests)
	body := func(r *apptest.Request) string {
		m := decodeJSON(t, r.Body).(map[string]any)
		delete(m, "id")
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return string(out)
	}

	// The other panel's contact, same e-mail, other values, written first.
	other := env.TokenFor("template_contact_other")
	var k struct{ Key string }
	code, raw := env.CallAs(other, "POST", "/api/v1/ingest-keys", map[string]any{"label": "other"}, &k)
	require.Equal(t, http.StatusCreated, code, raw)
	ingestOK(t, env, k.Key, map[string]any{"event": "Visited", "user": map[string]any{"email": "ann@example.com",
		"external_id": "other-ann", "city": "Oslo", "score": 1, "first_name": "Other"}})
	env.WaitSettled(10 * time.Second)

	recv := apptest.NewReceiver(t)
	hook := env.ActiveWebhook("Contact template", recv.URL, map[string]any{"batch_wait_ms": 0,
		"body_format": "template", "body_template": tpl})
	subs := apptest.NewReceiver(t)
	env.ActiveWebhook("Hashed subscription", subs.URL, map[string]any{"batch_wait_ms": 0, "hash_pii": true,
		"subscriptions": []map[string]any{{"event": "Bought"}}, "body_format": "template", "body_template": tpl})
	env.LiveJourney(fmt.Sprintf(`{"name": "Template contact", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Bought", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "att_params": ["EMAIL"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`, hook))
	key := env.IngestKey()
	ingestOK(t, env, key, map[string]any{"event": "Bought", "user": map[string]any{"email": "ann@example.com",
		"external_id": "ann-1", "city": "Pune", "score": 42.50, "first_name": "Ann"}})

	got := waitRequests(t, recv, 1)
	require.Len(t, got, 1)
	require.JSONEq(t, `{"city": "Pune", "score": 42.5, "first": "Ann", "email": "ann@example.com", "external_id": "ann-1",
		"event": "Bought"}`, body(got[0]), "CITY, SCORE and FIRSTNAME are not in the node's att_params")

	hashed := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	sub := waitRequests(t, subs, 1)
	require.JSONEq(t, fmt.Sprintf(`{"city": "Pune", "score": 42.5, "first": %q, "email": %q, "external_id": "ann-1", "event": "Bought"}`,
		hashed("ann"), hashed("ann@example.com")), body(sub[0]), "a subscribed event's contact, hashed with hash_pii")

	// The deliveries API's items name no contact: as before, the item alone.
	ids := env.Deliver(hook, map[string]any{"event": "Manual", "att_params": map[string]any{"EMAIL": "bob@example.com", "CITY": "Rome"}})
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	last := realRequests(recv)
	require.JSONEq(t, `{"city": "Rome", "score": null, "first": null, "email": "bob@example.com", "external_id": null, "event": "Manual"}`,
		body(last[len(last)-1]))
}
