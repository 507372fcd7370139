package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func TestWebhookSummariesAndSeries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, _ := store.EnsurePanel(ctx, "acme")
	other, _ := store.EnsurePanel(ctx, "other")
	busy, err := store.CreateWebhook(ctx, panel.ID, newSpec("Busy"))
	require.NoError(t, err)
	quiet, err := store.CreateWebhook(ctx, panel.ID, newSpec("Quiet"))
	require.NoError(t, err)
	elsewhere, err := store.CreateWebhook(ctx, other.ID, newSpec("Elsewhere"))
	require.NoError(t, err)

	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	attempt := func(w *models.Webhook, ago time.Duration, outcome string, code, latency, items int) {
		require.NoError(t, store.DBForTest().Exec(`INSERT INTO attempts (panel_id, webhook_id, batch_id, item_count, request_headers,
			status_code, latency_ms, outcome, created_at) VALUES (?, ?, 'b', ?, '{}', ?, ?, ?, ?)`,
			w.PanelID, w.ID, items, code, latency, outcome, now.Add(-ago)).Error)
	}
	attempt(busy, 30*time.Hour, "failed", 500, 10, 1) // older than a day: only the last-request column could see it
	attempt(busy, 50*time.Minute, "delivered", 200, 100, 10)
	attempt(busy, 50*time.Minute+10*time.Second, "delivered", 200, 300, 5)
	attempt(busy, 10*time.Minute, "retry", 503, 50, 2)
	attempt(busy, 5*time.Minute, "delivered", 200, 200, 3)
	attempt(elsewhere, time.Minute, "delivered", 200, 1, 1)

	sums, err := store.WebhookSummaries(ctx, panel.ID, now.Add(-24*time.Hour))
	require.NoError(t, err)
	require.Len(t, sums, 2, "this panel's webhooks only")
	b := sums[busy.ID]
	require.Equal(t, int64(4), b.Attempts)
	require.Equal(t, int64(3), b.Succeeded)
	require.Equal(t, now.Add(-5*time.Minute), b.LastAt.UTC())
	require.Equal(t, 200, b.LastCode)
	rate, ok := b.SuccessRate()
	require.True(t, ok)
	require.InDelta(t, 0.75, rate, 1e-9)
	_, ok = sums[quiet.ID].SuccessRate()
	require.False(t, ok, "no requests, no rate")
	require.Nil(t, sums[quiet.ID].LastAt)

	series, err := store.AttemptSeries(ctx, panel.ID, busy.ID, now.Add(-time.Hour), now, 15*time.Minute)
	require.NoError(t, err)
	require.Len(t, series, 4)
	require.Equal(t, now.Add(-time.Hour), series[0].Start)
	first := series[0] // 12:10 and 12:09:50 both fall in 11:00-11:15
	require.Equal(t, int64(2), first.Attempts)
	require.Equal(t, int64(15), first.DeliveredItems)
	require.InDelta(t, 200, *first.P50, 1e-9)
	require.InDelta(t, 290, *first.P95, 1e-9)
	require.Zero(t, series[1].Attempts)
	require.Nil(t, series[1].P50, "no requests: no latency")
	last := series[3]
	require.Equal(t, int64(2), last.Attempts)
	require.Equal(t, int64(1), last.Succeeded)
	require.Equal(t, int64(3), last.DeliveredItems)
	require.Equal(t, int64(2), last.FailedItems)

	_, err = store.AttemptSeries(ctx, panel.ID, busy.ID, now, now, time.Minute)
	require.Error(t, err, "an empty range is a mistake")
	none, err := store.AttemptSeries(ctx, other.ID, busy.ID, now.Add(-time.Hour), now, 15*time.Minute)
	require.NoError(t, err)
	for _, b := range none {
		require.Zero(t, b.Attempts, "another panel sees nothing of it")
	}
}
