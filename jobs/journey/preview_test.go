package journey

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestPreviewBatch(t *testing.T) {
	t.Parallel()
	def := &Definition{Name: "Cart", Nodes: []Node{
		{ID: "start", Type: TypeTrigger, Event: "open", Channel: "email", Next: "mail"},
		{ID: "mail", Type: TypeAction, Channel: "sms", MessageName: "Reminder", Next: "hook"},
		{ID: "hook", Type: TypeWebhook, WebhookID: 7, Next: "end",
			EventParams:  []string{"timestamp", "ts", "email", "message_name", "ip_addr", "user_agent"},
			AttParams:    []string{"EMAIL", "CITY", "LOYALTY"},
			CustomParams: map[string]any{"Action": "Email Open"}},
		{ID: "end", Type: TypeStop},
	}}
	now := time.Date(2022, 12, 2, 15, 48, 5, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		hashPII bool
		email   string
	}{
		{"plain", false, "test.user@example.com"},
		{"hashed", true, sha256Hex("test.user@example.com")},
	} {
		raw, err := PreviewBatch("acme_prod", "Cart", def, "hook", models.AssetInfo{ID: 7, Label: "Orders", HashPII: tc.hashPII}, now)
		require.NoError(t, err, tc.name)
		require.True(t, strings.HasPrefix(string(raw), "{\n  \"acme_prod\": [\n    {\n      \"delivery_id\": \"dlv_"), "%s: %s", tc.name, raw)
		var doc map[string][]Item
		require.NoError(t, json.Unmarshal(raw, &doc), tc.name)
		it := doc["acme_prod"][0]
		require.Equal(t, "Orders", it.WebhookName, tc.name)
		require.Equal(t, "Cart", it.JourneyName, tc.name)
		require.Equal(t, "open", it.Event, tc.name)
		require.Equal(t, "email", it.Channel, tc.name)
		require.Equal(t, map[string]any{"timestamp": "2022-12-02T15:48:05", "ts": float64(221202154805), "email": tc.email,
			"message_name": "Reminder", "ip_addr": "106.51.148.72", "user_agent": "Mozilla/5.0 (Macintosh)"}, it.EventParams, tc.name)
		require.Equal(t, map[string]any{"EMAIL": tc.email, "CITY": "Pune", "LOYALTY": nil}, it.AttParams, tc.name)
		require.Equal(t, map[string]any{"Action": "Email Open"}, it.CustomParams, tc.name)
	}
	require.Equal(t, "test.user@example.com", previewContact.Attributes["EMAIL"], "the shared sample is never hashed")
	_, err := PreviewBatch("acme_prod", "Cart", def, "mail", models.AssetInfo{}, now)
	require.Error(t, err, "only a webhook step sends a batch")
}

// sha256Hex is how package payload hashes a normalised e-mail address.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The preview sends the event a run carries at the webhook step: the
// awaited one after a wait's "happened" exit, the trigger after its
// timeout (the case: the preview said "open" where the delivery
// carried the awaited "click").
func TestPreviewFollowsThePath(t *testing.T) {
	t.Parallel()
	def := &Definition{Name: "Clicks", Nodes: []Node{
		{ID: "start", Type: TypeTrigger, Event: "open", Channel: "email", Next: "wait"},
		{ID: "wait", Type: TypeWait, Event: "click", Within: "1h", Happened: "on_click", Timeout: "on_timeout"},
		{ID: "on_click", Type: TypeWebhook, WebhookID: 7, Next: "end"},
		{ID: "on_timeout", Type: TypeWebhook, WebhookID: 7, Next: "end"},
		{ID: "after_both", Type: TypeStop},
		{ID: "end", Type: TypeStop},
	}}
	now := time.Date(2022, 12, 2, 15, 48, 5, 0, time.UTC)
	for _, tc := range []struct {
		node, event string
		wait        bool
	}{
		{"on_click", "click", true},
		{"on_timeout", "open", false},
	} {
		t.Run(tc.node, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.wait, PreviewEvent(def, tc.node) != nil)
			raw, err := PreviewBatch("acme_prod", "Clicks", def, tc.node, models.AssetInfo{ID: 7, Label: "Orders"}, now)
			require.NoError(t, err)
			var doc map[string][]Item
			require.NoError(t, json.Unmarshal(raw, &doc))
			it := doc["acme_prod"][0]
			require.Equal(t, tc.event, it.Event)
			require.Equal(t, "email", it.Channel, "the wait names no channel: the trigger's")
		})
	}
}
