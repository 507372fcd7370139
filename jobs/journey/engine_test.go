package journey

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// The hand-over between the worker holding a partition and the tasks it
// turns away: each writer stores an event and then runs the partition's
// task, which leaves at once when another worker holds the partition. With
// no sweep to fall back on, every event must still be processed.
func TestTurnedAwayIngestTasksLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, err := store.EnsurePanel(ctx, "handover")
	require.NoError(t, err)
	engine := &Engine{Store: store, Log: slog.New(slog.DiscardHandler)}
	task := asynq.NewTask(queue.TypeIngest, fmt.Appendf(nil, `{"panel_id": %d, "part": 3}`, panel.ID))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 60 {
				now := time.Now()
				ev := models.Event{ID: models.NewID(now), PanelID: panel.ID, EventID: fmt.Sprintf("%d-%d", w, i),
					Source: "test", Name: "open", Properties: map[string]any{}, OccurredAt: now, ReceivedAt: now,
					Part: 3, User: &models.Identity{Email: fmt.Sprintf("u%d@example.com", w)}}
				if _, err := store.InsertEvents(ctx, []models.Event{ev}); err != nil {
					t.Error(err)
					return
				}
				if err := engine.HandleIngest(ctx, task); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	waiting, err := store.HasUnprocessedEvents(ctx, panel.ID, 3)
	require.NoError(t, err)
	require.False(t, waiting, "an event was left unprocessed")
	var processed int64
	require.NoError(t, store.DBForTest().Model(&models.Event{}).Where("panel_id = ? AND processed_at IS NOT NULL", panel.ID).
		Count(&processed).Error)
	require.EqualValues(t, 240, processed)
}
