package journey

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// A step's test-send sends the contact's numbers with their digits, as
// its real deliveries do: the contact loaded for it keeps 20 digits.
// (Found by review: loaded through gorm's json serializer, the test item
// sent 12345678901234567000 where a run sent 12345678901234567890.)
func TestTestItemKeepsTheContactsDigits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "test_item_digits")
	require.NoError(t, err)
	var changes []models.ContactChange
	require.NoError(t, store.InTx(ctx, func(q models.Querier) error {
		changes, err = store.UpsertContacts(ctx, q, panel.ID, []models.Identity{{ExternalID: "ann"}},
			[]map[string]any{{"ORDER_ID": json.Number("12345678901234567890")}})
		return err
	}))
	c, err := store.ContactByID(ctx, panel.ID, changes[0].Contact.ID)
	require.NoError(t, err)
	def := &Definition{Name: "D", Nodes: []Node{
		{ID: "start", Type: TypeTrigger, Event: "open", Next: "hook"},
		{ID: "hook", Type: TypeWebhook, WebhookID: 7, AttParams: []string{"ORDER_ID"}, Next: "end"},
		{ID: "end", Type: TypeStop},
	}}
	item, err := TestItem("D", def, "hook", models.AssetInfo{ID: 7, Label: "W"}, c, nil, nil, time.Now())
	require.NoError(t, err)
	require.Contains(t, string(item), `"ORDER_ID":12345678901234567890`)
}
