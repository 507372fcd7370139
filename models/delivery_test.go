package models_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func TestParseDeliveryIDs(t *testing.T) {
	t.Parallel()
	a, b := models.NewID(time.Now()), models.NewID(time.Now())
	for _, tc := range []struct {
		name string
		in   []string
		want []uuid.UUID
		bad  string // the message of the ValidationError, "" when parsed
	}{
		{name: "none", in: nil, want: []uuid.UUID{}},
		{name: "two, in order", in: []string{models.DeliveryID(b), models.DeliveryID(a)}, want: []uuid.UUID{b, a}},
		{name: "no prefix", in: []string{models.DeliveryID(a), "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
			bad: `"01ARZ3NDEKTSV4RRFFQ69G5FAV" is not a delivery id (dlv_...)`},
		{name: "not a ULID", in: []string{"dlv_nope"}, bad: `"dlv_nope" is not a delivery id (dlv_...)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := models.ParseDeliveryIDs(tc.in)
			if tc.bad == "" {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var ve *models.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "delivery_id", ve.Field)
			require.Equal(t, tc.bad, ve.Message)
		})
	}
}

// A list of deliveries never carries the response bodies kept for journey
// runs: the row has one, the listed delivery does not.
func TestListDeliveriesLeavesTheKeptResponseOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "kept_response")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, panel.ID, newSpec("Scoring"))
	require.NoError(t, err)
	body := `{"score": 87}`
	now := time.Now()
	d := models.Delivery{ID: models.NewID(now), PanelID: panel.ID, WebhookID: w.ID, Item: json.RawMessage(`{}`),
		Status: models.DeliveryDelivered, KeepResponse: true, Response: &body, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	require.NoError(t, store.DBForTest().Create(&d).Error)

	got, err := store.ListDeliveries(ctx, panel.ID, w.ID, models.DeliveryFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, d.ID, got[0].ID)
	require.Equal(t, models.DeliveryDelivered, got[0].Status)
	require.True(t, got[0].KeepResponse)
	require.Nil(t, got[0].Response)
}
