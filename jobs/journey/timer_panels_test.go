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

// timersTask is the timers task of the second holding at.
func timersTask(at time.Time) *asynq.Task {
	second := at.Truncate(time.Second)
	return asynq.NewTask(queue.TypeTimers,
		fmt.Appendf(nil, `{"from_ms": %d, "to_ms": %d}`, second.UnixMilli(), second.Add(time.Second).UnixMilli()))
}

// copyRuns makes n-1 copies of the waiting run of b's journey.
func (b *engineBundle) copyRuns(t *testing.T, n int) {
	t.Helper()
	require.NoError(t, b.store.DBForTest().Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node,
		wait_event, wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery)
		SELECT (md5(random()::text || g::text))::uuid, journey_id, panel_id, contact_id,
		status, node, wait_event, wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery
		FROM journey_runs, generate_series(1, $2) g WHERE journey_id = $1`, b.journeyID, n-1).Error)
}

// crowdAndQuiet are two panels with the abandoned-cart journey live: a
// with crowd runs waiting (one contact's run and its copies), b with one.
func crowdAndQuiet(t *testing.T, crowd int) (a, b *engineBundle) {
	t.Helper()
	a = setupEngine(t)
	a.live(t, abandonedCart)
	b = otherPanel(t, a, "quiet")
	a.ingest(t, "Added to Cart", "crowd@example.com")
	b.ingest(t, "Added to Cart", "quiet@example.com")
	a.copyRuns(t, crowd)
	return a, b
}

// secondsAskedFor are the seconds (Unix) of the timers tasks the
// namespace holds.
func (b *engineBundle) secondsAskedFor(t *testing.T) map[int64]bool {
	t.Helper()
	out := map[int64]bool{}
	for _, task := range b.timerTasks(t) {
		var p queue.TimersPayload
		require.NoError(t, json.Unmarshal(task.Payload, &p))
		out[p.From/1000] = true
	}
	return out
}

// One panel's crowded second is not another panel's wait: a timers task
// moves a fair share of each panel's due runs a batch, so another panel's
// run due in the same second, even after the crowd's deadline, is in the
// first batch. (Found by review: a second's runs were moved in deadline
// order, 2,000 a batch, so a campaign's 100,000 waits ending at 9:00 held
// up every other panel's 9:00 by up to half a minute.)
func TestACrowdedSecondOfOnePanelIsNotAnothersWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := crowdAndQuiet(t, 3000)
	db := a.store.DBForTest()
	var second time.Time
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = date_trunc('second', now()) - interval '1 second'
		WHERE journey_id = $1 RETURNING wait_until`, a.journeyID).Scan(&second).Error)
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = $2 WHERE journey_id = $1`,
		b.journeyID, second.Add(500*time.Millisecond)).Error)

	first, err := a.store.DueTimers(ctx, second, second.Add(time.Second), a.store.Now(), models.TimerCursors{},
		timerBatch*timerShards)
	require.NoError(t, err)
	full := len(first) == timerBatch*timerShards
	require.True(t, full, "a full batch, not %d runs", len(first))
	var ofB int
	for _, d := range first {
		if d.JourneyID == b.journeyID {
			ofB++
		}
	}
	require.Equal(t, 1, ofB, "panel B's run is in the first batch, ahead of 2,000 of panel A's due before it")

	require.NoError(t, a.engine.HandleTimers(ctx, timersTask(second)))
	require.Equal(t, 1, b.runs(t, "completed"))
	require.Equal(t, 3000, a.runs(t, "completed"), "the task moves every run of its second")
}

// However many panels have overdue runs, the sweep that revives lost
// timers asks for every panel's earliest second in one pass: it returns a
// run for each panel and second, every panel's earliest first. (Found by
// review: at most 100 runs of a panel, earliest first, so ten panels with
// a backlog filled the pass and hid an eleventh panel's lost timer.)
func TestTenPanelsDoNotHideAnEleventhsLostTimer(t *testing.T) {
	t.Parallel()
	a := setupEngine(t)
	a.live(t, abandonedCart)
	db := a.store.DBForTest()
	for i := range 10 {
		p := a
		if i > 0 {
			p = otherPanel(t, a, fmt.Sprintf("crowd%d", i))
		}
		p.ingest(t, "Added to Cart", fmt.Sprintf("crowd%d@example.com", i))
		p.copyRuns(t, 100)
	}
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = date_trunc('second', now()) - interval '1 hour'`).Error)
	lone := otherPanel(t, a, "lone")
	lone.ingest(t, "Added to Cart", "lone@example.com")
	var until time.Time
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 minute' WHERE journey_id = $1
		RETURNING wait_until`, lone.journeyID).Scan(&until).Error)

	require.NoError(t, a.engine.SweepRuns(context.Background(), 0))
	require.True(t, a.secondsAskedFor(t)[until.Unix()], "the lone panel's lost timer is asked for")
}

// A paused journey's overdue runs do not hide its panel's live journey's
// lost timer: the sweep reads live journeys' runs only. (Found by review
// in a first version of the per-panel sweep, which read 2,000 overdue runs
// of a panel before it dropped those of journeys that are not live.)
func TestPausedRunsDoNotHideTheirPanelsLostTimer(t *testing.T) {
	t.Parallel()
	a := setupEngine(t)
	a.live(t, abandonedCart)
	a.ingest(t, "Added to Cart", "live@example.com")
	db := a.store.DBForTest()
	var paused int64
	require.NoError(t, db.Raw(`INSERT INTO journeys (panel_id, name, status, definition)
		SELECT panel_id, 'paused copy', 'paused', definition FROM journeys WHERE id = $1 RETURNING id`, a.journeyID).Scan(&paused).Error)
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, wait_event,
		wait_until, happened, state, end_reason, started_at, updated_at, ended_at, awaits_delivery)
		SELECT (md5(random()::text || g::text))::uuid, $2, panel_id, contact_id,
		status, node, wait_event, now() - interval '1 day' + g * interval '1 millisecond', happened, state, end_reason,
		started_at, updated_at, ended_at, awaits_delivery
		FROM journey_runs, generate_series(1, 2000) g WHERE journey_id = $1`, a.journeyID, paused).Error)
	var lost string
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 minute' WHERE journey_id = $1
		RETURNING id::text`, a.journeyID).Scan(&lost).Error)

	due, err := a.store.DueRuns(context.Background(), 0, 0, 1000)
	require.NoError(t, err)
	require.Len(t, due, 1, "the paused journey's runs are not read")
	require.Equal(t, lost, due[0].ID.String())
}

// However many overdue runs one panel has, the sweep that revives lost
// timers finds another panel's. (It read the 20 × limit earliest of all
// panels, so a panel with 20,000 overdue runs hid every later one of
// every other panel.)
func TestDueRunsSeesPastAnotherPanelsBacklog(t *testing.T) {
	t.Parallel()
	a, b := crowdAndQuiet(t, 300)
	db := a.store.DBForTest()
	// Panel A's 300 runs each in a second of its own, an hour ago.
	require.NoError(t, db.Exec(`UPDATE journey_runs r SET wait_until = now() - interval '1 hour' + s.n * interval '1 second'
		FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM journey_runs WHERE journey_id = $1) s
		WHERE r.id = s.id`, a.journeyID).Error)
	var bRun string
	require.NoError(t, db.Raw(`UPDATE journey_runs SET wait_until = now() - interval '1 minute'
		WHERE journey_id = $1 RETURNING id::text`, b.journeyID).Scan(&bRun).Error)

	due, err := a.store.DueRuns(context.Background(), 0, 0, 10)
	require.NoError(t, err)
	require.LessOrEqual(t, len(due), 10)
	var ofB int
	for _, r := range due {
		if r.PanelID == b.panel.ID {
			ofB++
			require.Equal(t, bRun, r.ID.String())
		}
	}
	require.Equal(t, 1, ofB, "panel B's lost timer is found behind panel A's 300")
}

// A timers task moves every panel's runs of its second in shared shard
// transactions, and every writer of runs locks their contacts first. A
// transaction of panel A holding A's own contacts (a long batch of A's
// events) does not hold up panel B's run due in that second: B's moves
// while A's lock is held, and A's runs move once A lets go, before the
// task ends. Found by a cross-panel review; ordered by the database's
// own state, no sleeps.
func TestOnePanelsLockedContactsDoNotHoldAnothersTimers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := setupEngine(t)
	a.live(t, abandonedCart)
	b := otherPanel(t, a, "victim")
	for _, e := range []string{"a0@example.com", "a1@example.com", "a2@example.com", "a3@example.com"} {
		a.ingest(t, "Added to Cart", e)
	}
	b.ingest(t, "Added to Cart", "victim@example.com")
	db := a.store.DBForTest()
	var aContacts []int64
	require.NoError(t, db.Raw(`SELECT id FROM contacts WHERE panel_id = ? ORDER BY id`, a.panel.ID).Scan(&aContacts).Error)
	shards := map[int64]bool{}
	for _, id := range aContacts {
		shards[id%timerShards] = true
	}
	require.Len(t, shards, timerShards, "A's contacts are in every shard, so B's run shares a transaction with one")
	second := a.store.Now().Truncate(time.Second).Add(-10 * time.Second)
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = ? WHERE status = 'waiting' AND panel_id IN (?, ?)`,
		second.Add(500*time.Millisecond), a.panel.ID, b.panel.ID).Error)

	tx := db.Begin()
	t.Cleanup(func() { tx.Rollback() })
	require.NoError(t, tx.Exec(`SELECT 1 FROM contacts WHERE panel_id = ? FOR UPDATE`, a.panel.ID).Error)
	done := make(chan error, 1)
	go func() { done <- a.engine.HandleTimers(ctx, timersTask(second)) }()
	status := func(panelID int64) []string {
		var out []string
		require.NoError(t, db.Raw(`SELECT status FROM journey_runs WHERE panel_id = ? ORDER BY id`, panelID).Scan(&out).Error)
		return out
	}
	require.Eventually(t, func() bool { return status(b.panel.ID)[0] != "waiting" }, 10*time.Second, 5*time.Millisecond,
		"B's run moves while A holds its own contacts")
	require.Equal(t, []string{"waiting", "waiting", "waiting", "waiting"}, status(a.panel.ID), "A's wait for A's transaction")
	require.NoError(t, tx.Rollback().Error)
	require.NoError(t, <-done)
	for _, s := range status(a.panel.ID) {
		require.NotEqual(t, "waiting", s, "A's runs moved once A let go, within the task")
	}
}

// A panel that spreads its crowd over many journeys (1,000 journeys whose
// 20,000 runs come due in one second) takes no more of a batch than a
// panel with one: another panel's 500 runs of that second, in one
// journey, are all in the first batch. (Shared among all journeys alike,
// B's one journey had 8 of each batch of 2,000, and its last run moved
// after 12 batches. Found by a cross-panel review.)
func TestManyJourneysOfOnePanelDoNotCrowdOutAnothersSecond(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := setupEngine(t)
	b := otherPanel(t, a, "victim")
	db := a.store.DBForTest()
	second := a.store.Now().Truncate(time.Second).Add(-10 * time.Second)
	a.journeysDueIn(t, 1000, 20, second, time.Millisecond)
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, wait_until, state, started_at, updated_at)
		SELECT gen_random_uuid(), ?, ?, g, 'waiting', 'wait', ?::timestamptz + (g * interval '1 ms'), '{}', now(), now()
		FROM generate_series(1, 500) g`, b.journeyID, b.panel.ID, second).Error)
	require.NoError(t, db.Exec(`ANALYZE journey_runs`).Error)

	due, err := a.store.DueTimers(ctx, second, second.Add(time.Second), a.store.Now(), models.TimerCursors{}, timerBatch*timerShards)
	require.NoError(t, err)
	require.Len(t, due, timerBatch*timerShards, "the batch is full")
	ofB := 0
	for _, d := range due {
		if d.JourneyID == b.journeyID {
			ofB++
		}
	}
	require.Equal(t, 500, ofB, "B's runs of the second are all in the first batch")
}

// journeysDueIn makes n live journeys of b's panel (named j1, j2, ...),
// each with runs waiting runs, due apart from one another after start.
func (b *engineBundle) journeysDueIn(t *testing.T, n, runs int, start time.Time, apart time.Duration) {
	t.Helper()
	db := b.store.DBForTest()
	require.NoError(t, db.Exec(`INSERT INTO journeys (panel_id, name, status, definition)
		SELECT ?, 'j' || g, 'live', '{}' FROM generate_series(1, ?) g`, b.panel.ID, n).Error)
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, wait_until, state, started_at, updated_at)
		SELECT gen_random_uuid(), j.id, j.panel_id, g, 'waiting', 'wait', ?::timestamptz + g * ?::interval, '{}', now(), now()
		FROM journeys j, generate_series(1, ?) g WHERE j.panel_id = ? AND j.name ~ '^j[0-9]+$'`,
		start, apart.String(), runs, b.panel.ID).Error)
}

// A contact of panel B busy for a moment (B's own short transaction) and a
// contact of panel A held by A's long one, in the same shard: once B's
// transaction ends, B's due run moves and B's contact is free, while A's
// transaction still holds A's. (Found by review: the busy runs were moved
// in shard transactions that waited, which locked B's contact and then
// waited for A's.)
func TestABusyContactOfOnePanelDoesNotWaitForAnothersLongTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := setupEngine(t)
	a.live(t, abandonedCart)
	b := otherPanel(t, a, "victim")
	b.ingest(t, "Added to Cart", "victim@example.com")
	for i := range 8 {
		a.ingest(t, "Added to Cart", fmt.Sprintf("a%d@example.com", i))
	}
	db := a.store.DBForTest()
	var bc, ac int64
	require.NoError(t, db.Raw(`SELECT id FROM contacts WHERE panel_id = ?`, b.panel.ID).Scan(&bc).Error)
	require.NoError(t, db.Raw(`SELECT min(id) FROM contacts WHERE panel_id = ? AND id > ?::bigint AND id % 4 = ?::bigint % 4`,
		a.panel.ID, bc, bc).Scan(&ac).Error)
	require.NotZero(t, ac, "a contact of A in the shard of B's, after it")
	second := a.store.Now().Truncate(time.Second).Add(-10 * time.Second)
	require.NoError(t, db.Exec(`UPDATE journey_runs SET wait_until = ? WHERE status = 'waiting' AND panel_id IN (?, ?)`,
		second.Add(500*time.Millisecond), a.panel.ID, b.panel.ID).Error)

	sqlDB := a.store.SQLDB()
	lockIn := func(contact int64) func() {
		tx, err := sqlDB.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE`, contact)
		require.NoError(t, err)
		return func() { _ = tx.Rollback() }
	}
	releaseA := lockIn(ac) // A's long transaction
	t.Cleanup(releaseA)
	releaseB := lockIn(bc) // B's own short one
	t.Cleanup(releaseB)
	waitingOf := func(contact int64) string {
		var s string
		require.NoError(t, db.Raw(`SELECT status FROM journey_runs WHERE contact_id = ?`, contact).Scan(&s).Error)
		return s
	}

	retrying := make(chan struct{}, 100)
	a.engine.busyHook = func() { retrying <- struct{}{} }
	done := make(chan error, 1)
	go func() { done <- a.engine.HandleTimers(ctx, timersTask(second)) }()
	select {
	case <-retrying: // the rest of the second has moved, and the task has looked from the start
	case <-time.After(10 * time.Second):
		t.Fatal("the task never came to the runs whose contacts were busy")
	}
	var waiting int
	require.NoError(t, db.Raw(`SELECT count(*) FROM journey_runs WHERE status = 'waiting' AND panel_id IN (?, ?)`,
		a.panel.ID, b.panel.ID).Scan(&waiting).Error)
	require.Equal(t, 2, waiting, "every run moved but the two whose contacts are held")
	releaseB() // B's transaction ends only now
	require.Eventually(t, func() bool { return waitingOf(bc) != "waiting" }, 10*time.Second, 5*time.Millisecond,
		"B's run moves while A's transaction holds A's contact")
	_, err := sqlDB.ExecContext(ctx, `SELECT 1 FROM contacts WHERE id = $1 FOR UPDATE NOWAIT`, bc)
	require.NoError(t, err, "and B's contact is free")
	require.Equal(t, "waiting", waitingOf(ac))
	releaseA()
	require.NoError(t, <-done)
	require.NotEqual(t, "waiting", waitingOf(ac), "A's run moved once A let go, within the task")
}
