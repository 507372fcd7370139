package journey

import (
	"context"
	"encoding/json"
	"errors"
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

// abandonedCart waits 30 days for an order; on the timeout its webhook
// step tells the shop.
const abandonedCart = `{"name": "Cart recovery", "nodes": [
  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "wait"},
  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "720h", "happened": "end", "timeout": "hook"},
  {"id": "hook", "type": "webhook", "webhook_id": %d, "event_params": ["email"], "att_params": ["EMAIL"],
   "custom_params": {"Action": "Cart abandoned"}, "next": "end"},
  {"id": "end", "type": "stop"}]}`

// signUpSync sends each sign-up to the webhook and waits for the delivery:
// the run leaves along "delivered" or "failed".
const signUpSync = `{"name": "Sign-up sync", "nodes": [
  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "crm"},
  {"id": "crm", "type": "webhook", "webhook_id": %d, "delivered": "synced", "failed": "gave_up"},
  {"id": "synced", "type": "stop"},
  {"id": "gave_up", "type": "stop"}]}`

// engineBundle is an engine on the real PostgreSQL and Redis (a namespace
// of its own), a panel with one active webhook, and no worker: the tests
// run the tasks themselves.
type engineBundle struct {
	engine    *Engine
	store     *models.Store
	enqueuer  *queue.Enqueuer
	namespace string
	panel     *models.Panel
	hook      int64
	journeyID int64 // the journey of live
}

func setupEngine(t *testing.T) *engineBundle {
	t.Helper()
	ctx := context.Background()
	store := modeltest.Store(t)
	redisOpt, err := asynq.ParseRedisURI(modeltest.RedisURL())
	require.NoError(t, err)
	client, inspector := asynq.NewClient(redisOpt), asynq.NewInspector(redisOpt)
	t.Cleanup(func() { _ = client.Close(); _ = inspector.Close() })
	b := &engineBundle{store: store, namespace: modeltest.Namespace(t)}
	b.enqueuer = &queue.Enqueuer{Client: client, Inspector: inspector, Namespace: b.namespace, Now: store.Now}
	b.engine = &Engine{Store: store, Enqueuer: b.enqueuer, Log: slog.New(slog.DiscardHandler)}

	b.panel, err = store.EnsurePanel(ctx, "engine")
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL, spec.BatchWaitMS = "Journey Webhook", "http://127.0.0.1:9/hook", 0
	w, err := store.CreateWebhook(ctx, b.panel.ID, spec)
	require.NoError(t, err)
	require.NoError(t, store.RecordTest(ctx, &models.WebhookTest{PanelID: b.panel.ID, WebhookID: &w.ID, ConfigFP: w.ConfigFP,
		URL: w.URL, Passed: true, StatusCode: 200}))
	_, _, err = store.ActivateWebhook(ctx, b.panel.ID, w.ID)
	require.NoError(t, err)
	b.hook = w.ID
	return b
}

// live stores and publishes a journey (format: its definition, with %d
// for the webhook's id) as the API would.
func (b *engineBundle) live(t *testing.T, format string) {
	t.Helper()
	ctx := context.Background()
	def := parse(t, fmt.Sprintf(format, b.hook))
	raw, err := b.engine.CheckDefinition(ctx, b.panel.ID, def)
	require.NoError(t, err)
	j, err := b.store.CreateJourney(ctx, b.panel.ID, def.Name, raw)
	require.NoError(t, err)
	_, err = b.engine.Publish(ctx, b.panel.ID, j.ID)
	require.NoError(t, err)
	b.journeyID = j.ID
}

// ingest stores one event of the contact email and runs the ingest task
// of its partition, as the ingest API and the worker would.
func (b *engineBundle) ingest(t *testing.T, event, email string) {
	t.Helper()
	ctx := context.Background()
	now := b.store.Now()
	ev := models.Event{ID: models.NewID(now), PanelID: b.panel.ID, EventID: modeltest.RandomID(), Source: "test", Name: event,
		Properties: map[string]any{}, OccurredAt: now, ReceivedAt: now, Part: 1, User: &models.Identity{Email: email}}
	_, err := b.store.InsertEvents(ctx, []models.Event{ev})
	require.NoError(t, err)
	require.NoError(t, b.engine.HandleIngest(ctx, asynq.NewTask(queue.TypeIngest,
		fmt.Appendf(nil, `{"panel_id": %d, "part": 1}`, b.panel.ID))))
}

// setupTimers is setupEngine with a live abandonedCart journey and one run
// of it waiting at its 30-day wait.
func setupTimers(t *testing.T) *engineBundle {
	t.Helper()
	b := setupEngine(t)
	b.live(t, abandonedCart)
	b.ingest(t, "Added to Cart", "far@example.com")
	require.Equal(t, 1, b.runs(t, "waiting"))
	return b
}

// runs counts the journey's runs in status.
func (b *engineBundle) runs(t *testing.T, status string) int {
	t.Helper()
	var n int64
	require.NoError(t, b.store.DBForTest().Raw(`SELECT count(*) FROM journey_runs WHERE journey_id = $1 AND status = $2`,
		b.journeyID, status).Scan(&n).Error)
	return int(n)
}

// deliveries are the items the journey's webhook step wrote.
func (b *engineBundle) deliveries(t *testing.T) []map[string]any {
	t.Helper()
	var raw []string
	require.NoError(t, b.store.DBForTest().Raw(`SELECT item::text FROM deliveries WHERE journey_id = $1 ORDER BY id`,
		b.journeyID).Scan(&raw).Error)
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		require.NoError(t, json.Unmarshal([]byte(r), &out[i]))
	}
	return out
}

// timerTasks are the journey timer tasks the namespace holds, scheduled or
// ready.
func (b *engineBundle) timerTasks(t *testing.T) []*asynq.TaskInfo {
	t.Helper()
	var out []*asynq.TaskInfo
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		b.enqueuer.Inspector.ListScheduledTasks, b.enqueuer.Inspector.ListPendingTasks,
	} {
		tasks, err := list(b.namespace + ":journey")
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		require.NoError(t, err)
		for _, task := range tasks {
			if task.Type == queue.TypeTimer || task.Type == queue.TypeTimers {
				out = append(out, task)
			}
		}
	}
	return out
}

// A wait far off costs Redis nothing: its deadline stays on the run row
// until it comes within the horizon, when the feeder hands Redis the task
// of its second, once however often it feeds. A task Redis loses is fed
// again, and the run takes its timeout exit when the deadline passes.
// (Moved from package app: no HTTP, no worker; the test runs the task.)
func TestFarWaitIsFedToRedisWithinTheHorizon(t *testing.T) {
	t.Parallel()
	b := setupTimers(t)
	ctx := context.Background()

	require.Empty(t, b.timerTasks(t), "a 30-day wait puts nothing in Redis")
	fed, err := b.engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Zero(t, fed, "nothing is due within the horizon")
	require.Empty(t, b.timerTasks(t))

	// The deadline comes near (moved in the database rather than the clock).
	require.NoError(t, b.store.DBForTest().Exec(
		`UPDATE journey_runs SET wait_until = now() + interval '2 seconds' WHERE journey_id = $1`, b.journeyID).Error)
	fed, err = b.engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, fed, "the second of the deadline is fed")
	require.Len(t, b.timerTasks(t), 1)
	fed, err = b.engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Zero(t, fed, "feeding again changes nothing")
	require.Len(t, b.timerTasks(t), 1)

	// Redis loses the task: the next feed finds the deadline again.
	_, err = b.enqueuer.Inspector.DeleteAllScheduledTasks(b.namespace + ":journey")
	require.NoError(t, err)
	_, err = b.enqueuer.Inspector.DeleteAllPendingTasks(b.namespace + ":journey")
	require.NoError(t, err)
	require.Empty(t, b.timerTasks(t))
	fed, err = b.engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, fed, "the lost task is fed again")
	tasks := b.timerTasks(t)
	require.Len(t, tasks, 1)

	// The fed task, run once its second has come, takes the timeout exit.
	require.NoError(t, b.engine.HandleTimers(ctx, asynq.NewTask(tasks[0].Type, tasks[0].Payload)))
	require.Equal(t, 1, b.runs(t, "completed"))
	items := b.deliveries(t)
	require.Len(t, items, 1)
	require.Equal(t, "Cart abandoned", items[0]["custom_params"].(map[string]any)["Action"])
}

// A due run is moved once, however many tasks end its wait at the same
// time: two tasks of its second, the per-run task of an earlier release and
// the sweep's. (Moved from package app: no HTTP, no worker.)
func TestTimerTasksMoveARunOnce(t *testing.T) {
	t.Parallel()
	b := setupTimers(t)
	var run struct {
		ID    string
		Until time.Time
	}
	require.NoError(t, b.store.DBForTest().Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 second'
		WHERE journey_id = $1 RETURNING id::text AS id, wait_until AS until`, b.journeyID).Scan(&run).Error)

	ctx := context.Background()
	second := run.Until.Truncate(time.Second)
	timers := asynq.NewTask(queue.TypeTimers,
		fmt.Appendf(nil, `{"from_ms": %d, "to_ms": %d}`, second.UnixMilli(), second.Add(time.Second).UnixMilli()))
	legacy := asynq.NewTask(queue.TypeTimer,
		fmt.Appendf(nil, `{"run_id": %q, "node": "wait", "at_ms": %d}`, run.ID, run.Until.UnixMilli()))
	fire := []func() error{
		func() error { return b.engine.HandleTimers(ctx, timers) },
		func() error { return b.engine.HandleTimers(ctx, timers) },
		func() error { return b.engine.HandleTimer(ctx, legacy) },
		func() error { return b.engine.SweepRuns(ctx, 0) },
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(fire))
	for _, f := range fire {
		wg.Go(func() { errs <- f() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, b.runs(t, "completed"))
	require.Len(t, b.deliveries(t), 1, "the run took its timeout exit once")

	// Each of them again, as a redelivered task would: nothing more.
	for _, f := range fire {
		require.NoError(t, f())
	}
	require.Len(t, b.deliveries(t), 1)
	require.Equal(t, 1, b.runs(t, "completed"))
}

// A run a timer moves on can reach a webhook step with udt_params: the
// step's item gets the contact's data-table rows there too (the timer's
// save works across panels, so the rows are read in each delivery's own).
func TestTimerReachesAWebhookStepWithDataTables(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	b.live(t, `{"name": "Cart recovery", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "wait"},
	  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "1h", "happened": "end", "timeout": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "udt_params": ["orders"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	b.ingest(t, "Added to Cart", "udt@example.com")
	require.Equal(t, 1, b.runs(t, "waiting"))
	ctx := context.Background()
	c, err := b.store.FindContact(ctx, b.panel.ID, models.Identity{Email: "udt@example.com"})
	require.NoError(t, err)
	_, err = b.store.PutContactData(ctx, b.panel.ID, c.ID, "orders", json.RawMessage(`[{"sku": "A1", "qty": 2}]`))
	require.NoError(t, err)

	var until time.Time
	require.NoError(t, b.store.DBForTest().Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 second'
		WHERE journey_id = $1 RETURNING wait_until`, b.journeyID).Scan(&until).Error)
	second := until.Truncate(time.Second)
	require.NoError(t, b.engine.HandleTimers(ctx, asynq.NewTask(queue.TypeTimers,
		fmt.Appendf(nil, `{"from_ms": %d, "to_ms": %d}`, second.UnixMilli(), second.Add(time.Second).UnixMilli()))))
	require.Equal(t, 1, b.runs(t, "completed"))
	items := b.deliveries(t)
	require.Len(t, items, 1)
	require.Equal(t, map[string]any{"orders": []any{map[string]any{"sku": "A1", "qty": float64(2)}}}, items[0]["udt_params"])
}
