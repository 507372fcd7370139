package jobs

import (
	"context"
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
	opt, err := asynq.ParseRedisURI(modeltest.RedisURL())
	require.NoError(t, err)
	client, inspector := asynq.NewClient(opt), asynq.NewInspector(opt)
	t.Cleanup(func() { _ = client.Close(); _ = inspector.Close() })
	ns := modeltest.Namespace(t)
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
