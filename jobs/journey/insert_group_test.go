package journey

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// Concurrent requests share statements, yet each learns exactly which of
// its own events were new, and a repeat across requests of the same group
// is stored once.
func TestInsertGroupSharesStatements(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	a, err := store.EnsurePanel(ctx, "group_a")
	require.NoError(t, err)
	b, err := store.EnsurePanel(ctx, "group_b")
	require.NoError(t, err)
	event := func(panel *models.Panel, id string) models.Event {
		now := time.Now()
		return models.Event{ID: models.NewID(now), PanelID: panel.ID, EventID: id, Source: "test", Name: "open",
			Properties: map[string]any{}, OccurredAt: now, ReceivedAt: now}
	}
	var g insertGroup
	const requests = 64
	results, errs := make([][]bool, requests), make([]error, requests)
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			panel := a
			if i%2 == 1 {
				panel = b
			}
			// Each request: one event of its own, and one that every
			// request of its panel sends.
			evs := []models.Event{event(panel, fmt.Sprintf("own-%d", i)), event(panel, "shared")}
			results[i], errs[i] = g.insert(ctx, store, evs)
		})
	}
	wg.Wait()
	sharedStored := map[bool]int{}
	for i, fresh := range results {
		require.NoError(t, errs[i])
		require.Len(t, fresh, 2)
		require.True(t, fresh[0], "request %d: its own event is new", i)
		if fresh[1] {
			sharedStored[i%2 == 1]++
		}
	}
	require.Equal(t, map[bool]int{false: 1, true: 1}, sharedStored, "the shared event is new for exactly one request per panel")
	var n int64
	require.NoError(t, store.DB.Model(&models.Event{}).Count(&n).Error)
	require.EqualValues(t, requests+2, n)
	g.mu.Lock()
	defer g.mu.Unlock()
	require.Zero(t, g.running, "every slot is given back")
	require.Empty(t, g.queue)
}
