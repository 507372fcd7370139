package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

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
// panels' runs due in the same second: the shard it is in moves its runs
// one at a time, the other shards go on, and the refused run is ended
// with the reason. (Found by review: the second's task failed on every
// retry, and the runs of its shards with it.)
func TestOnePanelsRefusedTimerDoesNotHoldAnothersRuns(t *testing.T) {
	t.Parallel()
	a, b := poisonedPanels(t)
	for i := range 4 { // one of them shares the poison's contact shard
		b.ingest(t, "Added to Cart", fmt.Sprintf("victim%d@example.com", i))
	}
	var until time.Time
	require.NoError(t, a.store.DBForTest().Raw(`UPDATE journey_runs SET wait_until = date_trunc('second', now()) - interval '1 second'
		WHERE status = 'waiting' RETURNING wait_until`).Scan(&until).Error)
	second := until.Truncate(time.Second)
	task := asynq.NewTask(queue.TypeTimers,
		fmt.Appendf(nil, `{"from_ms": %d, "to_ms": %d}`, second.UnixMilli(), second.Add(time.Second).UnixMilli()))
	ctx := context.Background()
	var errs []error
	for range 3 { // the task, its retries, the sweep's
		errs = append(errs, a.engine.HandleTimers(ctx, task))
		require.NoError(t, a.engine.SweepRuns(ctx, 0))
	}
	require.Equal(t, 4, b.runs(t, "completed"), "panel B's runs moved; the task said: %v", errs)
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
