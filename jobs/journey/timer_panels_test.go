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
)

// crowdedPanels are two panels with the abandoned-cart journey live: a
// with n runs waiting (one contact's run, copied) and b with one, all due
// in the same second, which it returns.
func crowdedPanels(t *testing.T, n int, due string) (a, b *engineBundle, second time.Time) {
	t.Helper()
	a = setupEngine(t)
	a.live(t, abandonedCart)
	b = otherPanel(t, a, "quiet")
	a.ingest(t, "Added to Cart", "crowd@example.com")
	b.ingest(t, "Added to Cart", "quiet@example.com")
	db := a.store.DBForTest()
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, wait_event,
		wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery)
		SELECT (md5(random()::text || g::text))::uuid, journey_id, panel_id, contact_id,
		status, node, wait_event, wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery
		FROM journey_runs, generate_series(1, $2) g WHERE journey_id = $1`, a.journeyID, n-1).Error)
	var until time.Time
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = `+due+`
		WHERE status = 'waiting' AND journey_id IN ($1, $2) RETURNING wait_until`, a.journeyID, b.journeyID).Scan(&until).Error)
	require.Equal(t, n, a.runs(t, "waiting"))
	return a, b, until.Truncate(time.Second)
}

// timersAskedFor are the panels and seconds (Unix) of the timers tasks
// the namespace holds.
func (b *engineBundle) timersAskedFor(t *testing.T) map[[2]int64]bool {
	t.Helper()
	out := map[[2]int64]bool{}
	for _, task := range b.timerTasks(t) {
		var p queue.TimersPayload
		require.NoError(t, json.Unmarshal(task.Payload, &p))
		out[[2]int64{p.PanelID, p.From / 1000}] = true
	}
	return out
}

// One panel's crowded second is its own task's work: another panel's
// run due in the same second is moved by a task of its own, without
// waiting for the first panel's thousand runs. (Found by review: a
// second's one task moved every panel's runs in deadline order, so a
// campaign's 100,000 waits ending at 9:00 held up every other panel's
// 9:00 by up to half a minute.) A task of an earlier release, which names
// no panel, asks for each panel's task of its second.
func TestACrowdedSecondOfOnePanelIsNotAnothersWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, second := crowdedPanels(t, 1000, `date_trunc('second', now()) - interval '1 second'`)

	legacy := asynq.NewTask(queue.TypeTimers,
		fmt.Appendf(nil, `{"from_ms": %d, "to_ms": %d}`, second.UnixMilli(), second.Add(time.Second).UnixMilli()))
	require.NoError(t, a.engine.HandleTimers(ctx, legacy))
	require.Equal(t, map[[2]int64]bool{{a.panel.ID, second.Unix()}: true, {b.panel.ID, second.Unix()}: true},
		a.timersAskedFor(t), "one task for each panel's second")
	require.Equal(t, 1000, a.runs(t, "waiting"), "the task of no panel moves nothing itself")

	require.NoError(t, b.engine.HandleTimers(ctx, b.timersTask(second)))
	require.Equal(t, 1, b.runs(t, "completed"), "panel B's run moved by its own task")
	require.Equal(t, 1000, a.runs(t, "waiting"), "and none of panel A's")

	require.NoError(t, a.engine.HandleTimers(ctx, a.timersTask(second)))
	require.Equal(t, 1000, a.runs(t, "completed"), "panel A's task moves its thousand")
	require.Equal(t, 1, b.runs(t, "completed"))
}

// The feeder asks for one task per panel and second within the horizon
// that has deadlines, and for no second beyond it.
func TestFeedAsksForEachPanelsSeconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b, second := crowdedPanels(t, 3, `date_trunc('second', now()) + interval '2 seconds'`)
	db := a.store.DBForTest()
	// One of a's runs a second later, and b's beyond the horizon.
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = wait_until + interval '1 second'
		WHERE id = (SELECT id FROM journey_runs WHERE journey_id = ? LIMIT 1)`, a.journeyID).Error)
	b.ingest(t, "Added to Cart", "later@example.com")
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = now() + interval '2 hours'
		WHERE journey_id = ? AND contact_id = (SELECT id FROM contacts WHERE email = 'later@example.com')`, b.journeyID).Error)

	fed, err := a.engine.FeedTimers(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, fed)
	require.Equal(t, map[[2]int64]bool{
		{a.panel.ID, second.Unix()}: true, {a.panel.ID, second.Unix() + 1}: true, {b.panel.ID, second.Unix()}: true,
	}, a.timersAskedFor(t))
}

// However many overdue runs one panel has, the sweep that revives lost
// timers finds another panel's: it reads the deadlines panel by panel.
// (It read the 20 × limit earliest of all panels, so a panel with 20,000
// overdue runs hid every later one of every other panel.)
func TestDueRunsSeesPastAnotherPanelsBacklog(t *testing.T) {
	t.Parallel()
	a, b, _ := crowdedPanels(t, 300, `now() - interval '1 hour'`)
	var bRun string
	require.NoError(t, a.store.DBForTest().Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 minute'
		WHERE journey_id = $1 RETURNING id::text`, b.journeyID).Scan(&bRun).Error)

	due, err := a.store.DueRuns(context.Background(), 0, 10) // reads 20 of each panel
	require.NoError(t, err)
	var ofA, ofB int
	for _, r := range due {
		switch r.PanelID {
		case a.panel.ID:
			ofA++
		case b.panel.ID:
			ofB++
			require.Equal(t, bRun, r.ID.String())
		}
	}
	require.Equal(t, 1, ofB, "panel B's lost timer is found behind panel A's 300")
	require.Equal(t, 1, ofA, "a tenth of the limit of one panel")
}
