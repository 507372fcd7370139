package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// otherPanel is a second panel on b's store and engine, with an active
// webhook and a live abandonedCart journey of its own.
func otherPanel(t *testing.T, b *engineBundle, name string) *engineBundle {
	t.Helper()
	ctx := context.Background()
	o := &engineBundle{engine: b.engine, store: b.store, enqueuer: b.enqueuer, namespace: b.namespace}
	var err error
	o.panel, err = b.store.EnsurePanel(ctx, name)
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL, spec.BatchWaitMS = "Journey Webhook", "http://127.0.0.1:9/hook", 0
	w, err := b.store.CreateWebhook(ctx, o.panel.ID, spec)
	require.NoError(t, err)
	require.NoError(t, b.store.RecordTest(ctx, &models.WebhookTest{PanelID: o.panel.ID, WebhookID: &w.ID, ConfigFP: w.ConfigFP,
		URL: w.URL, Passed: true, StatusCode: 200}))
	_, _, err = b.store.ActivateWebhook(ctx, o.panel.ID, w.ID)
	require.NoError(t, err)
	o.hook = w.ID
	o.live(t, abandonedCart)
	return o
}

// poisonedPanels are two panels with the abandoned-cart journey live, on
// a database that refuses a delivery naming "poison" (standing for any
// value PostgreSQL refuses, as in the ingest poison test), and a's contact
// poison@example.com waiting in it.
func poisonedPanels(t *testing.T) (a, b *engineBundle) {
	t.Helper()
	a = setupEngine(t)
	a.live(t, abandonedCart)
	b = otherPanel(t, a, "victim")
	require.NoError(t, a.store.DBForTest().Exec(
		`ALTER TABLE deliveries ADD CONSTRAINT refuses_poison CHECK (position('poison' in item::text) = 0)`).Error)
	a.ingest(t, "Added to Cart", "poison@example.com")
	return a, b
}

// One panel's run whose move PostgreSQL refuses does not hold up other
// runs due in the same second, its panel's or another's: the shard it is
// in moves its runs by halves, the other shards go on, and the refused run
// is ended with the reason. (Found by review: the second's task failed on every retry, and
// the runs of its shards with it.)
func TestOnePanelsRefusedTimerDoesNotHoldAnothersRuns(t *testing.T) {
	t.Parallel()
	a, b := poisonedPanels(t)
	for i := range 4 { // one of a's shares the poison's contact shard
		a.ingest(t, "Added to Cart", fmt.Sprintf("neighbour%d@example.com", i))
		b.ingest(t, "Added to Cart", fmt.Sprintf("victim%d@example.com", i))
	}
	var until time.Time
	require.NoError(t, a.store.DBForTest().Raw(`UPDATE journey_runs SET wait_until = date_trunc('second', now()) - interval '1 second'
		WHERE status = 'waiting' RETURNING wait_until`).Scan(&until).Error)
	ctx := context.Background()
	var errs []error
	for range 3 { // the tasks, their retries, the sweep's
		errs = append(errs, a.engine.HandleTimers(ctx, timersTask(until)))
		require.NoError(t, a.engine.SweepRuns(ctx, 0))
	}
	require.Equal(t, 4, b.runs(t, "completed"), "panel B's runs moved; the task said: %v", errs)
	require.Equal(t, 4, a.runs(t, "completed"), "panel A's other runs moved; the task said: %v", errs)
	require.NoError(t, errs[0], "the task ends well")
	var reason string
	require.NoError(t, a.store.DBForTest().Raw(`SELECT end_reason FROM journey_runs WHERE journey_id = ? AND status = 'ended'`,
		a.journeyID).Scan(&reason).Error)
	require.Contains(t, reason, "its next step was refused by the database: ")
	require.Contains(t, reason, "refuses_poison")
}

// Runs of one panel that stay overdue do not fill the sweep that revives
// lost timers: another panel's run, whose timer task Redis lost, is asked
// for on every pass. (Found by review: the sweep read the 1000 earliest
// overdue runs of all panels.)
func TestOnePanelsStuckRunsDoNotHideAnothersLostTimer(t *testing.T) {
	t.Parallel()
	a, b := poisonedPanels(t)
	b.ingest(t, "Added to Cart", "victim@example.com")
	db := a.store.DBForTest()
	// Panel A: 1000 waiting runs (one refused move each), due an hour ago.
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = now() - interval '1 hour' WHERE journey_id = $1`, a.journeyID).Error)
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, wait_event,
		wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery)
		SELECT (md5(random()::text || g::text))::uuid, journey_id, panel_id, contact_id,
		status, node, wait_event, wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery
		FROM journey_runs, generate_series(1, 999) g WHERE journey_id = $1`, a.journeyID).Error)
	require.Equal(t, 1000, a.runs(t, "waiting"))
	// Panel B: one run due a minute ago, whose timer task Redis lost.
	var until time.Time
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 minute' WHERE journey_id = $1
		RETURNING wait_until`, b.journeyID).Scan(&until).Error)
	bSecond := until.Truncate(time.Second).UnixMilli()

	ctx := context.Background()
	for pass := range 3 {
		require.NoError(t, a.engine.SweepRuns(ctx, 0))
		asked := false
		for _, task := range a.timerTasks(t) {
			var p queue.TimersPayload
			require.NoError(t, json.Unmarshal(task.Payload, &p))
			asked = asked || p.From == bSecond
			_ = a.engine.HandleTimers(ctx, asynq.NewTask(task.Type, task.Payload)) // panel A's: refused again
		}
		require.True(t, asked, "pass %d: the sweep asks again for panel B's lost timer", pass)
	}
}

// A run whose move after its delivery settled is refused by PostgreSQL is
// ended with the reason, rather than failing its outcome task, every
// retry and every sweep's, for good; and one panel's runs left waiting on
// settled deliveries do not fill the sweep that asks for those moves.
func TestARefusedMoveAfterADeliveryEndsTheRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEngine(t)
	b.live(t, `{"name": "Sign-up sync", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Signed Up", "next": "crm"},
	  {"id": "crm", "type": "webhook", "webhook_id": %d, "delivered": "again", "failed": "again"},
	  {"id": "again", "type": "webhook", "webhook_id": %[1]d, "custom_params": {"tag": "poison"}, "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	_, err := b.store.DeactivateWebhook(ctx, b.panel.ID, b.hook) // held: the run waits
	require.NoError(t, err)
	db := b.store.DBForTest()
	require.NoError(t, db.Exec(`ALTER TABLE deliveries ADD CONSTRAINT refuses_poison CHECK (position('poison' in item::text) = 0)`).Error)
	b.ingest(t, "Signed Up", "ann@example.com")
	var waiting struct{ AwaitsDelivery *uuid.UUID }
	require.NoError(t, db.Raw(`SELECT awaits_delivery FROM journey_runs WHERE journey_id = $1 AND status = 'waiting'`,
		b.journeyID).Scan(&waiting).Error)
	require.NotNil(t, waiting.AwaitsDelivery, "the run waits for its delivery")
	require.NoError(t, db.Exec(`UPDATE deliveries SET status = 'failed', updated_at = now() - interval '1 second' WHERE id = $1`,
		*waiting.AwaitsDelivery).Error)

	require.NoError(t, b.engine.SweepRuns(ctx, 0))
	tasks, err := b.enqueuer.Inspector.ListPendingTasks(b.namespace + ":journey")
	require.NoError(t, err)
	outcomes := 0
	for _, task := range tasks {
		if task.Type == queue.TypeOutcome {
			outcomes++
			require.NoError(t, b.engine.HandleOutcome(ctx, asynq.NewTask(task.Type, task.Payload)), "the task ends well")
		}
	}
	require.Equal(t, 1, outcomes)
	var run struct{ Status, EndReason string }
	require.NoError(t, db.Raw(`SELECT status, end_reason FROM journey_runs WHERE journey_id = $1`, b.journeyID).Scan(&run).Error)
	require.Equal(t, "ended", run.Status)
	require.Contains(t, run.EndReason, "its next step was refused by the database: ")
}

// The sweep asks for the moves of runs whose delivery settled, at most a
// tenth of them of one panel: another panel's run is asked for too.
func TestSettledAwaitsTakesAFewOfEachPanel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := setupEngine(t).store
	db := store.DBForTest()
	mk := func(panel string, n int) (journeyID int64) {
		p, err := store.EnsurePanel(ctx, panel)
		require.NoError(t, err)
		require.NoError(t, db.Raw(`INSERT INTO journeys (panel_id, name, status, definition, created_at, updated_at)
			VALUES ($1, $2, 'live', '{}', now(), now()) RETURNING id`, p.ID, panel).Scan(&journeyID).Error)
		require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, state,
			started_at, updated_at, awaits_delivery)
			SELECT gen_random_uuid(), $1, $2, g, 'waiting', 'crm', '{}', now(), now() - interval '1 minute', gen_random_uuid()
			FROM generate_series(1, $3) g`, journeyID, p.ID, n).Error)
		return journeyID
	}
	mk("settled_noisy", 30)
	quiet := mk("settled_quiet", 1)
	got, _, err := store.SettledAwaits(ctx, 0, uuid.Nil, 1000, 10)
	require.NoError(t, err)
	require.Len(t, got, 2, "one of each: a tenth of 10")
	var quietRuns int
	require.NoError(t, db.Raw(`SELECT count(*) FROM journey_runs WHERE journey_id = ? AND id IN ?`, quiet,
		[]uuid.UUID{got[0].RunID, got[1].RunID}).Scan(&quietRuns).Error)
	require.Equal(t, 1, quietRuns, "the quiet panel's run is among them")
}

// A run that ends with an error is counted at the step where it ended,
// for the journey map: here one whose step was deleted while it waited,
// and one the database refused.
func TestEndedRunsAreCountedAtTheirStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := poisonedPanels(t)
	b.ingest(t, "Added to Cart", "gone@example.com")
	db := a.store.DBForTest()
	// b's run waits at a step its journey no longer has.
	require.NoError(t, db.Exec(`UPDATE journey_runs SET node = 'gone' WHERE journey_id = ?`, b.journeyID).Error)
	var until time.Time
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = date_trunc('second', now()) - interval '1 second'
		WHERE status = 'waiting' RETURNING wait_until`).Scan(&until).Error)
	require.NoError(t, a.engine.HandleTimers(ctx, timersTask(until)))

	for _, p := range []struct {
		bundle *engineBundle
		node   string
	}{{a, "wait"}, {b, "gone"}} {
		stats, err := a.store.JourneyStats(ctx, p.bundle.panel.ID, p.bundle.journeyID)
		require.NoError(t, err)
		require.NotNil(t, stats[p.node], p.node)
		require.Equal(t, int64(1), stats[p.node].Ended, "ended at %s", p.node)
	}
}

// A run whose awaited event came while its journey was paused moves by
// its own journey:timer task (Resume), not by a timers task. When
// PostgreSQL refuses that move twice, the run is ended with the reason,
// as fireShard and HandleOutcome do. (Found by review: its task failed
// every retry, the sweep enqueued a fresh one every 5 s for good, and the
// run took one of its panel's 100 places in DueRuns.)
func TestARefusedResumeOfAHappenedRunEndsTheRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEngine(t)
	b.live(t, `{"name": "Order follow-up", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "wait"},
	  {"id": "wait", "type": "wait_for_event", "event": "Placed Order", "within": "720h", "happened": "hook", "timeout": "end"},
	  {"id": "hook", "type": "webhook", "webhook_id": %d, "event_params": ["email"], "att_params": ["EMAIL"],
	   "custom_params": {"Action": "Ordered"}, "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	db := b.store.DBForTest()
	require.NoError(t, db.Exec(`ALTER TABLE deliveries ADD CONSTRAINT refuses_poison CHECK (position('poison' in item::text) = 0)`).Error)
	b.ingest(t, "Added to Cart", "poison@example.com")
	// Its "Placed Order" came while the journey was paused: the run is
	// marked happened, and moves once the journey is live (it is).
	require.NoError(t, db.Exec(`UPDATE journey_runs SET happened = true WHERE journey_id = $1 AND status = 'waiting'`,
		b.journeyID).Error)

	var errs []error
	for range 3 { // the sweep's task and its retries, and the next sweeps'
		require.NoError(t, b.engine.SweepRuns(ctx, 0))
		for _, task := range b.timerTasks(t) {
			if task.Type == queue.TypeTimer {
				errs = append(errs, b.engine.HandleTimer(ctx, asynq.NewTask(task.Type, task.Payload)))
			}
		}
	}
	var run struct{ Status, EndReason string }
	require.NoError(t, db.Raw(`SELECT status, end_reason FROM journey_runs WHERE journey_id = $1`, b.journeyID).Scan(&run).Error)
	require.Equal(t, "ended", run.Status, "the refused run is ended; its tasks said: %v", errs)
	require.Contains(t, run.EndReason, "its next step was refused by the database: ")
}
