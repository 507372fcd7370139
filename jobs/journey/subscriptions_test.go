package journey

import (
	"testing"

	"github.com/google/uuid"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestSendsRaw(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"event": "NEW_VISIT"}`)
	for _, tc := range []struct {
		name      string
		format    string
		batchSize int
		hashPII   bool
		raw       []byte
		want      bool
	}{
		{"json one at a time", models.BodyJSON, 1, false, raw, true},
		{"json batches", models.BodyJSON, 10, false, raw, false},
		{"form", models.BodyForm, 1, false, raw, false},
		{"template", models.BodyTemplate, 1, false, raw, false},
		{"hash_pii changes values", models.BodyJSON, 1, true, raw, false},
		{"ingested as a form", models.BodyJSON, 1, false, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := models.SubscribedAsset{AssetInfo: models.AssetInfo{BatchSize: tc.batchSize, HashPII: tc.hashPII}, BodyFormat: tc.format}
			require.Equal(t, tc.want, SendsRaw(&a, &models.Event{Raw: tc.raw}))
		})
	}
}

// Hashing a subscribed event's item leaves the event alone: the contact is
// written from its attributes after the item is built, and journeys read
// its properties.
func TestSubscriptionItemHashesACopy(t *testing.T) {
	t.Parallel()
	ev := &models.Event{Name: "NEW_VISIT", User: &models.Identity{Email: "ann@example.com"},
		UserAttributes: map[string]any{"FIRSTNAME": "Ann", "EMAIL": "ann@example.com"},
		Properties:     map[string]any{"email": "ann@example.com", "nested": map[string]any{"to": "bob@example.com"}}}
	item, err := SubscriptionItem(ev, uuid.New(), true)
	require.NoError(t, err)
	require.NotContains(t, string(item), "ann@example.com", "the item is hashed")
	require.NotContains(t, string(item), "Ann")
	require.Equal(t, map[string]any{"FIRSTNAME": "Ann", "EMAIL": "ann@example.com"}, ev.UserAttributes)
	require.Equal(t, map[string]any{"email": "ann@example.com", "nested": map[string]any{"to": "bob@example.com"}}, ev.Properties)
}
