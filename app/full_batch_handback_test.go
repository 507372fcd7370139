package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// holdSendLock takes the webhook's send lock shared on a session of its
// own, as a deliveries API write in progress does: a release (exclusive)
// waits until unlock is called.
func holdSendLock(t *testing.T, env *apptest.Env, webhookID int64) (unlock func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := env.Store.SQLDB().Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock_shared(-($1::bigint))`, webhookID)
	require.NoError(t, err)
	done := false
	unlock = func() {
		if done {
			return
		}
		done = true
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock_shared(-($1::bigint))`, webhookID)
		require.NoError(t, err)
		_ = conn.Close()
	}
	t.Cleanup(unlock)
	return unlock
}

// waitReleaseBlocked waits until a worker's release of the webhook waits
// for the send lock.
func waitReleaseBlocked(t *testing.T, env *apptest.Env) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		require.NoError(t, env.Store.SQLDB().QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%send_lease_until = NULL%'`).Scan(&n))
		if n > 0 {
			return
		}
		require.False(t, time.Now().After(deadline), "no release waiting for the send lock")
		time.Sleep(10 * time.Millisecond)
	}
}

// flushTasks lists the webhook's flush tasks in every live state.
func flushTasks(t *testing.T, env *apptest.Env, webhookID int64) map[string]string {
	t.Helper()
	q := env.Namespace + ":deliver"
	out := map[string]string{}
	for state, list := range map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		"pending": env.Enqueuer.Inspector.ListPendingTasks, "scheduled": env.Enqueuer.Inspector.ListScheduledTasks,
		"active": env.Enqueuer.Inspector.ListActiveTasks, "retry": env.Enqueuer.Inspector.ListRetryTasks,
	} {
		tasks, err := list(q)
		if err != nil && !strings.Contains(err.Error(), "not found") {
			require.NoError(t, err)
		}
		for _, task := range tasks {
			var p queue.FlushPayload
			if json.Unmarshal(task.Payload, &p) == nil && p.WebhookID == webhookID {
				out[task.ID] = state
			}
		}
	}
	return out
}

func pendingCount(t *testing.T, env *apptest.Env, webhookID int64) int {
	t.Helper()
	var n int
	require.NoError(t, env.Store.SQLDB().QueryRow(`SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND status = 'pending'`, webhookID).Scan(&n))
	return n
}

// writeAsEngine writes pending rows as the journey engine does (no send
// lock), then asks for their flush as Engine.after does.
func writeAsEngine(t *testing.T, env *apptest.Env, webhookID int64, wait time.Duration, size, n int) {
	t.Helper()
	ctx := context.Background()
	rows := make([]models.Delivery, n)
	for i := range rows {
		rows[i] = models.Delivery{ID: models.NewID(env.Store.Now()), PanelID: env.Panel.ID, WebhookID: webhookID,
			Item: json.RawMessage(`{"event":"engine"}`)}
	}
	require.NoError(t, env.Store.EnqueueDeliveries(ctx, rows))
	require.NoError(t, env.Enqueuer.Wrote(ctx, webhookID, wait, size, n))
}

// A full batch completed while a full batch's flush hands a part batch
// back: the new batch's own task finds the webhook held and leaves it to
// the holder, so the holder, once it lets go, asks for a full batch's task
// at once. (Found by review: it asked for the window's task only, and the
// full batch waited out the window, five minutes here.)
func TestAFullBatchCompletedDuringAHandBackLeavesAtOnce(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	const wait = 5 * time.Minute
	id := env.ActiveWebhook("Hand back race", recv.URL, map[string]any{"batch_size": 3, "batch_wait_ms": wait.Milliseconds()})

	unlock := holdSendLock(t, env, id)
	first := env.Deliver(id, items(5, "a")...) // fills one batch: a Full task
	recv.WaitDelivered(t, 30*time.Second, first[:3])
	// The Full task claimed the two left, a part batch, and lets the
	// webhook go (handBack): its release waits for the send lock.
	waitReleaseBlocked(t, env)

	// One more row completes a batch: the engine writes it and asks for
	// a Full task, which finds the webhook held and returns.
	writeAsEngine(t, env, id, wait, 3, 1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		running := false
		for task := range flushTasks(t, env, id) {
			if strings.Contains(task, ":full:") && strings.HasSuffix(task, ":2") {
				running = true
			}
		}
		if !running {
			break
		}
		require.False(t, time.Now().After(deadline), "the second Full task never ran")
		time.Sleep(10 * time.Millisecond)
	}

	unlock()
	// The holder lets go and asks for the window's task only.
	deadline = time.Now().Add(20 * time.Second)
	for {
		var leased bool
		require.NoError(t, env.Store.SQLDB().QueryRow(`SELECT send_lease_until IS NOT NULL FROM webhooks WHERE id = $1`, id).Scan(&leased))
		tasks := flushTasks(t, env, id)
		active := false
		for _, st := range tasks {
			active = active || st != "scheduled"
		}
		if !leased && !active {
			t.Logf("pending rows %d, flush tasks %v", pendingCount(t, env, id), tasks)
			break
		}
		require.False(t, time.Now().After(deadline), "the holder never let go")
		time.Sleep(10 * time.Millisecond)
	}
	// Three rows, a whole batch, wait: it should leave at once.
	recv.WaitFor(t, 5*time.Second, "the full batch of the rows left and the engine's row",
		func() bool { return len(recv.Delivered()) == 6 })
}

// Two worker hosts whose clocks differ a little: the window's task runs
// on the one ahead (its window has ended), finds the webhook held by a
// full batch's flush on the other and returns; that one, whose window has
// not ended yet, hands its part batch back. It asks for a task of its own
// for the window's end: the window's task id, which its process asked for
// already (the journey engine in the same worker wrote the rows), was not
// asked of Redis again, and no task was left. (Found by review.)
func TestAPartBatchHandedBackHasATaskOfItsOwn(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	const wait = time.Minute
	id := env.ActiveWebhook("Skew", recv.URL, map[string]any{"batch_size": 3, "batch_wait_ms": wait.Milliseconds()})
	ctx := context.Background()

	newDeliverer := func(store *models.Store) *delivery.Deliverer {
		return delivery.NewDeliverer(delivery.DelivererParams{Store: store, Enqueuer: env.Enqueuer,
			Sender: &delivery.Sender{Client: &httpClientNeverUsed, UserAgent: "x", Now: store.Now}, Tracker: env.Tracker,
			Concurrency: 10, Config: delivery.Config{Lease: 2 * time.Minute}})
	}
	hostA := newDeliverer(env.Store)
	aheadStore := *env.Store
	aheadStore.Clock = &models.Clock{}
	hostB := newDeliverer(&aheadStore)

	// The worker's engine writes two rows (its Enqueuer asks for their
	// window's task and remembers it), then, in another call, a third,
	// which fills a batch: the Full task.
	writeAsEngine(t, env, id, wait, 3, 2)
	now := env.Store.Now()
	end := now.Truncate(wait).Add(wait)
	// A row of the full batch was sent by someone else meanwhile (another
	// full batch's flush, say): two are left, a part batch. Simplest: mark
	// one delivered.
	writeAsEngine(t, env, id, wait, 3, 1)
	_, err := env.Store.SQLDB().Exec(`UPDATE deliveries SET status = 'delivered' WHERE id = (
		SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'pending' ORDER BY id LIMIT 1)`, id)
	require.NoError(t, err)
	require.Equal(t, 2, pendingCount(t, env, id))
	aheadStore.Clock.Advance(end.Sub(now) + time.Millisecond) // host B: the window has ended

	unlock := holdSendLock(t, env, id)
	full, _ := json.Marshal(queue.FlushPayload{WebhookID: id, WindowEnd: now.UnixMilli(), Full: true})
	errA := make(chan error, 1)
	go func() { errA <- hostA.HandleFlush(ctx, asynq.NewTask(queue.TypeFlush, full)) }()
	waitReleaseBlocked(t, env) // host A claimed the part batch and hands it back

	// Host B runs the window's task: the webhook is held; it returns, and
	// asynq drops the task.
	win, _ := json.Marshal(queue.FlushPayload{WebhookID: id, WindowEnd: end.UnixMilli()})
	require.NoError(t, hostB.HandleFlush(ctx, asynq.NewTask(queue.TypeFlush, win)))
	for task, st := range flushTasks(t, env, id) {
		require.NoError(t, env.Enqueuer.Inspector.DeleteTask(env.Namespace+":deliver", task), st)
	}

	unlock()
	require.NoError(t, <-errA)
	require.True(t, env.Store.Now().Before(end), "host A's clock: the window lasts")
	require.Equal(t, 2, pendingCount(t, env, id))
	tasks := flushTasks(t, env, id)
	require.Len(t, tasks, 1, "the two pending rows have a task to send them; none would leave them to the reconciler")
	for task, state := range tasks {
		require.Contains(t, task, ":back:")
		require.Equal(t, "scheduled", state, "for the window's end")
	}
}

var httpClientNeverUsed = http.Client{}
