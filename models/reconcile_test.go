package models_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// Past the retention window, history goes: delivered deliveries, attempts
// and processed events. What someone must still act on stays: failed
// deliveries and events not processed yet; and so does anything recent.
func TestPruneHistoryKeepsWhatIsStillNeeded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, w := activeHook(t, store, 10)
	ids := enqueue(t, store, panel, w, 2)
	c, err := store.ClaimBatch(ctx, w.ID, w.BatchSize, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.NoError(t, store.CompleteBatch(ctx, &models.Completion{WebhookID: w.ID, Lease: c.Lease,
		Attempt: &models.Attempt{PanelID: panel.ID, WebhookID: w.ID, BatchID: "msg_old", ItemCount: 2,
			RequestHeaders: json.RawMessage(`{}`), StatusCode: 400, Outcome: models.OutcomeDelivered},
		Delivered: ids[:1], Failed: ids[1:]}))

	event := func(at time.Time, id string, user *models.Identity) models.Event {
		part := int16(0)
		if user != nil {
			part = models.PartOf(*user)
		}
		return models.Event{ID: models.NewID(at), PanelID: panel.ID, EventID: id, Source: "test", Name: "open",
			Properties: map[string]any{}, OccurredAt: at, ReceivedAt: at, User: user, Part: part}
	}
	now := time.Now()
	later := now.Add(8 * 24 * time.Hour)
	_, err = store.InsertEvents(ctx, []models.Event{
		event(now, "old-processed", nil),
		event(now, "old-waiting", &models.Identity{Email: "a@example.com"}),
		event(later, "recent-processed", nil),
	})
	require.NoError(t, err)
	// A worker processed the events that name nobody (for subscriptions).
	require.NoError(t, store.DBForTest().Exec(`UPDATE events SET processed_at = received_at WHERE user_identity IS NULL`).Error)

	store.Clock.Set(later)
	n, err := store.PruneHistory(ctx, 7*24*time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "the delivered delivery, the attempt and the old processed event")

	counts, err := store.CountDeliveries(ctx, w.ID)
	require.NoError(t, err)
	require.Equal(t, map[models.DeliveryStatus]int64{models.DeliveryFailed: 1}, counts)
	var attempts int64
	require.NoError(t, store.DBForTest().Model(&models.Attempt{}).Count(&attempts).Error)
	require.Zero(t, attempts)
	var left []string
	require.NoError(t, store.DBForTest().Raw(`SELECT event_id FROM events ORDER BY event_id`).Scan(&left).Error)
	require.Equal(t, []string{"old-waiting", "recent-processed"}, left)
}
