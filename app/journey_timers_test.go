package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/queue"
)

// timerTasks counts the journey timer tasks this env's Redis namespace
// holds, scheduled or ready.
func timerTasks(t *testing.T, env *apptest.Env) int {
	t.Helper()
	q := env.Namespace + ":journey"
	n := 0
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		env.Enqueuer.Inspector.ListScheduledTasks, env.Enqueuer.Inspector.ListPendingTasks,
	} {
		tasks, err := list(q)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		require.NoError(t, err)
		for _, task := range tasks {
			if task.Type == queue.TypeTimer || task.Type == queue.TypeTimers {
				n++
			}
		}
	}
	return n
}

// A wait far off costs Redis nothing: its deadline stays on the run row
// until it comes within the horizon, when the feeder hands Redis the task
// of its second, once however often it feeds. A task Redis loses is fed
// again, and the run takes its timeout exit when the deadline passes.
func TestFarWaitIsFedToRedisWithinTheHorizon(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	id := env.LiveJourney(fmt.Sprintf(abandonedCart, "720h", hook))
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "user": map[string]any{"email": "far@example.com"}})
	env.WaitRuns(id, "waiting", 1)
	env.StopWorker() // the tasks stay where the test can count them
	ctx := context.Background()

	require.Zero(t, timerTasks(t, env), "a 30-day wait puts nothing in Redis")
	fed, err := env.Engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Zero(t, fed, "nothing is due within the horizon")
	require.Zero(t, timerTasks(t, env))

	// The deadline comes near (moved in the database rather than the clock).
	require.NoError(t, env.Store.DBForTest().Exec(
		`UPDATE journey_runs SET wait_until = now() + interval '2 seconds' WHERE journey_id = $1`, id).Error)
	fed, err = env.Engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, fed, "the second of the deadline is fed")
	require.Equal(t, 1, timerTasks(t, env))
	fed, err = env.Engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Zero(t, fed, "feeding again changes nothing")
	require.Equal(t, 1, timerTasks(t, env))

	// Redis loses the task: the next feed finds the deadline again.
	_, err = env.Enqueuer.Inspector.DeleteAllScheduledTasks(env.Namespace + ":journey")
	require.NoError(t, err)
	_, err = env.Enqueuer.Inspector.DeleteAllPendingTasks(env.Namespace + ":journey")
	require.NoError(t, err)
	require.Zero(t, timerTasks(t, env))
	fed, err = env.Engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, fed, "the lost task is fed again")

	env.StartWorker()
	recv.WaitFor(t, 15*time.Second, "the timeout exit's webhook", func() bool { return len(recv.Delivered()) == 1 })
	require.Equal(t, "Cart abandoned", recv.Requests()[0].Items[0]["custom_params"].(map[string]any)["Action"])
	env.WaitRuns(id, "completed", 1)
}

// A due run is moved once, however many tasks end its wait at the same
// time: two tasks of its second, the per-run task of an earlier release and
// the sweep's.
func TestTimerTasksMoveARunOnce(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	id := env.LiveJourney(fmt.Sprintf(abandonedCart, "720h", hook))
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "user": map[string]any{"email": "once@example.com"}})
	env.WaitRuns(id, "waiting", 1)
	env.StopWorker()
	var run struct {
		ID    string
		Until time.Time
	}
	require.NoError(t, env.Store.DBForTest().Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 second'
		WHERE journey_id = $1 RETURNING id::text AS id, wait_until AS until`, id).Scan(&run).Error)

	ctx := context.Background()
	second := run.Until.Truncate(time.Second)
	timers := asynq.NewTask(queue.TypeTimers,
		fmt.Appendf(nil, `{"from_ms": %d, "to_ms": %d}`, second.UnixMilli(), second.Add(time.Second).UnixMilli()))
	legacy := asynq.NewTask(queue.TypeTimer,
		fmt.Appendf(nil, `{"run_id": %q, "node": "wait", "at_ms": %d}`, run.ID, run.Until.UnixMilli()))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, fire := range []func() error{
		func() error { return env.Engine.HandleTimers(ctx, timers) },
		func() error { return env.Engine.HandleTimers(ctx, timers) },
		func() error { return env.Engine.HandleTimer(ctx, legacy) },
		func() error { return env.Engine.SweepRuns(ctx, 0) },
	} {
		wg.Go(func() { errs <- fire() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	env.WaitRuns(id, "completed", 1)
	var deliveries int64
	require.NoError(t, env.Store.DBForTest().Raw(`SELECT count(*) FROM deliveries WHERE journey_id = $1`, id).Scan(&deliveries).Error)
	require.Equal(t, int64(1), deliveries, "the run took its timeout exit once")

	env.StartWorker() // and whatever the sweep enqueued finds nothing more to do
	recv.WaitFor(t, 15*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	require.NoError(t, env.Store.DBForTest().Raw(`SELECT count(*) FROM deliveries WHERE journey_id = $1`, id).Scan(&deliveries).Error)
	require.Equal(t, int64(1), deliveries)
}
