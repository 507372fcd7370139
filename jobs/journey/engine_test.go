package journey

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// The hand-over between the worker holding a partition and the tasks it
// turns away: each writer stores an event and then runs the partition's
// task, which, when another worker holds the partition, enqueues a later
// task for it and leaves. With no sweep to fall back on, the tasks on the
// queue must process every event.
func TestTurnedAwayIngestTasksLeaveNothingBehind(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := context.Background()
	task := asynq.NewTask(queue.TypeIngest, fmt.Appendf(nil, `{"panel_id": %d, "part": 3}`, b.panel.ID))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 60 {
				b.insertEvent(t, 3, fmt.Sprintf("%d-%d", w, i), fmt.Sprintf("u%d@example.com", w))
				if err := b.engine.HandleIngest(ctx, task); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.runQueuedIngest(t)
	require.Zero(t, b.unprocessed(t, 3), "an event was left unprocessed")
	var processed int64
	require.NoError(t, b.store.DBForTest().Model(&models.Event{}).Where("panel_id = ? AND processed_at IS NOT NULL", b.panel.ID).
		Count(&processed).Error)
	require.EqualValues(t, 240, processed)
}

// A task turned away by the holder of its partition does not leave its
// events to the holder, which may have claimed before they committed: it
// enqueues the partition's task for the current window.
func TestIngestTaskTurnedAwayEnqueuesALaterOne(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := context.Background()
	b.insertEvent(t, 2, "late", "late@example.com")
	holder, err := b.store.SQLDB().BeginTx(ctx, nil)
	require.NoError(t, err)
	var got bool
	require.NoError(t, holder.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1::int, $2::int)`,
		int32(b.panel.ID), 2+1_000_000).Scan(&got))
	require.True(t, got)
	require.NoError(t, b.engine.HandleIngest(ctx, asynq.NewTask(queue.TypeIngest,
		fmt.Appendf(nil, `{"panel_id": %d, "part": 2}`, b.panel.ID))))
	require.Equal(t, 1, b.unprocessed(t, 2), "the turned-away task processed nothing")
	require.Len(t, b.queuedIngest(t), 1, "the turned-away task left no task behind it")
	require.NoError(t, holder.Rollback())
	b.runQueuedIngest(t)
	require.Zero(t, b.unprocessed(t, 2))
}

// insertEvent stores one event of the contact email in partition part, as
// the ingest API would (without enqueueing its task).
func (b *engineBundle) insertEvent(t *testing.T, part int16, eventID, email string) {
	t.Helper()
	now := time.Now()
	ev := models.Event{ID: models.NewID(now), PanelID: b.panel.ID, EventID: eventID,
		Source: "test", Name: "open", Properties: map[string]any{}, OccurredAt: now, ReceivedAt: now,
		Part: part, User: &models.Identity{Email: email}}
	if _, err := b.store.InsertEvents(context.Background(), []models.Event{ev}); err != nil {
		t.Error(err)
	}
}

// unprocessed counts the partition's events not processed yet.
func (b *engineBundle) unprocessed(t *testing.T, part int16) int {
	t.Helper()
	var n int64
	require.NoError(t, b.store.DBForTest().Model(&models.Event{}).
		Where("panel_id = ? AND part = ? AND processed_at IS NULL", b.panel.ID, part).Count(&n).Error)
	return int(n)
}

// queuedIngest lists the ingest tasks waiting on the bundle's queue.
func (b *engineBundle) queuedIngest(t *testing.T) []*asynq.TaskInfo {
	t.Helper()
	var out []*asynq.TaskInfo
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		b.enqueuer.Inspector.ListPendingTasks, b.enqueuer.Inspector.ListScheduledTasks} {
		tasks, err := list(b.namespace + ":journey")
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			require.NoError(t, err)
		}
		for _, ti := range tasks {
			if ti.Type == queue.TypeIngest {
				out = append(out, ti)
			}
		}
	}
	return out
}

// runQueuedIngest runs the queued ingest tasks, as a worker would, until
// none is left; a task may enqueue another.
func (b *engineBundle) runQueuedIngest(t *testing.T) {
	t.Helper()
	for range 1000 {
		tasks := b.queuedIngest(t)
		if len(tasks) == 0 {
			return
		}
		for _, ti := range tasks {
			require.NoError(t, b.enqueuer.Inspector.DeleteTask(b.namespace+":journey", ti.ID))
			require.NoError(t, b.engine.HandleIngest(context.Background(), asynq.NewTask(ti.Type, ti.Payload)))
		}
	}
	t.Fatal("ingest tasks kept enqueueing one another")
}
