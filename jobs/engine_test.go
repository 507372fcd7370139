package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

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
	task := asynq.NewTask(TypeIngest, fmt.Appendf(nil, `{"panel_id": %d, "part": 3}`, panel.ID))
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
	require.NoError(t, store.DB.Model(&models.Event{}).Where("panel_id = ? AND processed_at IS NOT NULL", panel.ID).
		Count(&processed).Error)
	require.EqualValues(t, 240, processed)
}

// A timer task never wakes before its wait is over, whatever fraction of
// a millisecond the wait ends on: a timer that woke early would find its
// run not due and end without moving it.
func TestTimerWakesNoEarlierThanTheWait(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 23, 4, 5, 24, 0, time.UTC)
	for _, frac := range []time.Duration{0, time.Microsecond, 303741 * time.Microsecond, 999999 * time.Microsecond} {
		at := base.Add(frac)
		var p timerPayload
		require.NoError(t, json.Unmarshal(timerTask(models.NewID(at), "wait", at).Payload(), &p))
		wake := time.UnixMilli(p.At)
		require.False(t, wake.Before(at), "wait ends %v, timer wakes %v", at, wake)
		require.Less(t, wake.Sub(at), time.Millisecond)
	}
}
