package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// A worker stopped in the middle of a request hands its batch back; the
// next worker delivers it. The receiver may see the batch twice (delivery is
// at least once) and can drop the copy by delivery_id.
func TestWorkerCancelledMidSendRedelivers(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{HTTPTimeout: 10 * time.Second})
	recv := apptest.NewReceiver(t)
	started := make(chan struct{}, 1)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 {
			started <- struct{}{}
			return apptest.Answer{Status: 200, Delay: 5 * time.Second} // hangs until the worker goes away
		}
		return apptest.Answer{Status: 200}
	}
	id := env.ActiveWebhook("Slow", recv.URL, map[string]any{"batch_wait_ms": 0})
	ids := env.Deliver(id, items(5, "c")...)
	<-started
	env.StopWorker() // cancels the request in flight

	// Either the answer came before the worker stopped (delivered) or the
	// batch was handed back: pending, its attempt not counted.
	var other int64
	env.Store.DBForTest().Model(&models.Delivery{}).
		Where("webhook_id = ? AND NOT (status = 'delivered' OR status = 'pending' AND attempts = 0)", id).Count(&other)
	require.Zero(t, other, "the stopped worker handed its claim back")

	env.StartWorker()
	env.Reconcile()
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	recv.WaitDelivered(t, 10*time.Second, ids)
}

// A worker that dies without a word (killed, machine gone) leaves its rows
// claimed; once the lease runs out they go back to the outbox and out again,
// before anything newer.
func TestDeadClaimIsRecoveredAfterLease(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	id := env.ActiveWebhook("Orphaned", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 2})
	ctx := context.Background()
	older := env.Deliver(id, items(2, "old")...)

	// The dead worker's claim, with a short lease.
	claim, err := env.Store.ClaimBatch(ctx, id, 2, time.Time{}, 300*time.Millisecond)
	require.NoError(t, err)
	require.Len(t, claim.Rows, 2)
	again, err := env.Store.ClaimBatch(ctx, id, 2, time.Time{}, time.Minute)
	require.NoError(t, err)
	require.True(t, again.Busy, "a live claim keeps others off the webhook")

	newer := env.Deliver(id, items(2, "new")...)
	env.Store.Clock.Advance(time.Second) // the lease runs out
	env.StartWorker()
	env.Reconcile()
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, append(older, newer...)...)
	require.Equal(t, append(older, newer...), recv.Delivered(), "the orphaned batch goes first")
}

// Redis wiped in the middle of a run: every flush task is gone, and no later
// event comes to trigger another. Every delivery still arrives, because
// PostgreSQL holds them and the reconciler re-enqueues what Redis forgot.
func TestRedisFlushedMidRunLosesNothing(t *testing.T) {
	t.Parallel()
	rs := modeltest.StartRedis(t)
	env := apptest.Start(t, apptest.Options{RedisURL: rs.URL})
	recv := apptest.NewReceiver(t)
	var hooks []int64
	for _, name := range []string{"one", "two", "three"} {
		hooks = append(hooks, env.ActiveWebhook(name, recv.URL, map[string]any{"batch_wait_ms": 3000, "batch_size": 5}))
	}
	var ids []string
	for _, h := range hooks {
		ids = append(ids, env.Deliver(h, items(12, "r")...)...)
	}
	opt, _ := redis.ParseURL(rs.URL)
	c := redis.NewClient(opt)
	require.NoError(t, c.FlushAll(context.Background()).Err(), "the flush tasks, due in 3 s, are gone")
	_ = c.Close()

	// Nothing is left in Redis that would ever send them: only the
	// reconciler, reading PostgreSQL, can.
	require.Zero(t, env.QueuedTasks(), "the flush tasks are gone")
	require.Empty(t, recv.Requests())
	env.ReconcileEvery(200 * time.Millisecond)
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, ids...)
	recv.WaitDelivered(t, 10*time.Second, ids)
}
