package queue

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// A timer whose task ran out of retries sits archived under the timer's
// id; the sweep enqueueing the timer again must bring it back rather than
// take the id conflict for "already queued". A live task is left as it is.
func TestSweepRevivesAnArchivedTask(t *testing.T) {
	t.Parallel()
	client, inspector, ns := testQueue(t)
	e := &Enqueuer{Client: client, Inspector: inspector, Namespace: ns}
	queue := ns + ":" + queueJourney
	t.Cleanup(func() { _ = inspector.DeleteQueue(queue, true) })

	ctx := context.Background()
	at := time.Now().Add(time.Hour)
	run := models.NewID(at)
	id := timerID(run, "wait", at)
	require.NoError(t, e.Timer(ctx, run, "wait", at))
	require.NoError(t, e.Timer(ctx, run, "wait", at), "a live timer: enqueued once, no error")
	info, err := inspector.GetTaskInfo(queue, id)
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStateScheduled, info.State)

	require.NoError(t, inspector.ArchiveTask(queue, id)) // as after its last retry failed
	require.NoError(t, e.Timer(ctx, run, "wait", at))
	info, err = inspector.GetTaskInfo(queue, id)
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStateScheduled, info.State, "the sweep brought the timer back")
}

// A timer task never wakes before its wait is over, whatever fraction of
// a millisecond the wait ends on: a timer that woke early would find its
// run not due and end without moving it.
func TestTimerWakesNoEarlierThanTheWait(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 23, 4, 5, 24, 0, time.UTC)
	for _, frac := range []time.Duration{0, time.Microsecond, 303741 * time.Microsecond, 999999 * time.Microsecond} {
		at := base.Add(frac)
		var p TimerPayload
		require.NoError(t, json.Unmarshal(timerTask(models.NewID(at), "wait", at).Payload(), &p))
		wake := time.UnixMilli(p.At)
		require.False(t, wake.Before(at), "wait ends %v, timer wakes %v", at, wake)
		require.Less(t, wake.Sub(at), time.Millisecond)
	}
}

// Two flush windows of one webhook that start at the same moment but end
// at different ones (a retry's FlushAt and a batch wait) are two tasks:
// sharing an id, the later window's rows were left to the earlier
// window's task, which may have run before they were written.
func TestFlushWindowsOfDifferentLengthsAreDifferentTasks(t *testing.T) {
	t.Parallel()
	client, inspector, ns := testQueue(t)
	start := time.Now().Truncate(time.Second).Add(time.Hour)
	e := &Enqueuer{Client: client, Inspector: inspector, Namespace: ns, Now: func() time.Time { return start }}
	queue := ns + ":" + queueDeliver
	t.Cleanup(func() { _ = inspector.DeleteQueue(queue, true) })

	ctx := context.Background()
	require.NoError(t, e.FlushAt(ctx, 7, start))
	require.NoError(t, e.Flush(ctx, 7, time.Second))
	pending, err := inspector.ListPendingTasks(queue)
	require.NoError(t, err)
	scheduled, err := inspector.ListScheduledTasks(queue)
	require.NoError(t, err)
	var ends []int64
	for _, task := range append(pending, scheduled...) {
		var p FlushPayload
		require.NoError(t, json.Unmarshal(task.Payload, &p))
		ends = append(ends, p.WindowEnd)
	}
	require.ElementsMatch(t, []int64{start.Add(10 * time.Millisecond).UnixMilli(), start.Add(time.Second).UnixMilli()}, ends)
}

// testQueue is an asynq client and inspector on the test Redis, and a
// namespace of the test's own.
func testQueue(t *testing.T) (*asynq.Client, *asynq.Inspector, string) {
	t.Helper()
	opt, err := asynq.ParseRedisURI(modeltest.RedisURL())
	require.NoError(t, err)
	client, inspector := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { _ = client.Close(); _ = inspector.Close() })
	return client, inspector, modeltest.Namespace(t)
}
