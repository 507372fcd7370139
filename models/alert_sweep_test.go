package models_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models/modeltest"
)

// 25 panels whose alerts can never go out (a recipient the mail server
// refuses), 20 due alerts each, do not keep a 26th panel's alert from the
// sweep: the sweep goes round the panels from where it stopped. (Found by
// review: the sweep took the 500 lowest ids of all panels.)
func TestAlertSweepGoesRoundEveryPanel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	db := store.DBForTest()
	for i := range 25 {
		p, err := store.EnsurePanel(ctx, fmt.Sprintf("stuck%d", i))
		require.NoError(t, err)
		w, err := store.CreateWebhook(ctx, p.ID, newSpec("Stuck"))
		require.NoError(t, err)
		require.NoError(t, db.Exec(`INSERT INTO alerts (panel_id, webhook_id, state, details, created_at, next_attempt_at)
			SELECT ?, ?, 'disabled', '{}', now() - interval '1 day', now() - interval '1 day' FROM generate_series(1, 20)`, p.ID, w.ID).Error)
	}
	victim, err := store.EnsurePanel(ctx, "victim")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, victim.ID, newSpec("Victim"))
	require.NoError(t, err)
	_, err = store.QueueAlert(ctx, victim.ID, w.ID, "disabled", map[string]any{})
	require.NoError(t, err)

	var after int64
	var seen []int64
	for range 3 {
		panels, err := store.PanelsWithDueAlerts(ctx, after, 10)
		require.NoError(t, err)
		require.LessOrEqual(t, len(panels), 10)
		seen = append(seen, panels...)
		if len(panels) < 10 {
			break
		}
		after = panels[len(panels)-1]
	}
	require.Contains(t, seen, victim.ID, "the victim panel comes round within three passes of ten")
}

// A panel holds at most its places in the mail queue however many of its
// alerts are due and however many workers ask at once; an alert waiting
// for its next attempt holds none, and a webhook's alerts are queued in
// the order they were written. (Found by review: a count and an enqueue
// apart let concurrent alerts past the cap, and alerts that failed to
// send kept a panel's healthy alerts out.)
func TestQueueDueAlertsKeepsToThePlaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	p, err := store.EnsurePanel(ctx, "places")
	require.NoError(t, err)
	var first, second int64
	for i := range 12 {
		w, err := store.CreateWebhook(ctx, p.ID, newSpec(fmt.Sprintf("Hook %d", i)))
		require.NoError(t, err)
		id, err := store.QueueAlert(ctx, p.ID, w.ID, "disabled", map[string]any{})
		require.NoError(t, err)
		if i == 0 {
			first = id
			// A later alert of the same webhook waits for the first.
			second, err = store.QueueAlert(ctx, p.ID, w.ID, "recovered", map[string]any{})
			require.NoError(t, err)
		}
	}

	var mu sync.Mutex
	var queued []int64
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			ids, err := store.QueueDueAlerts(ctx, p.ID, 3)
			require.NoError(t, err)
			mu.Lock()
			queued = append(queued, ids...)
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Len(t, queued, 3, "three places, whoever asks")
	require.Contains(t, queued, first)
	require.NotContains(t, queued, second, "not before the webhook's earlier alert")

	// The two others fail and wait for their next attempt: they give up
	// their places, which the next due alerts take.
	failing := slices.DeleteFunc(slices.Clone(queued), func(id int64) bool { return id == first })
	retry := store.Now().Add(time.Minute)
	for _, id := range failing {
		require.NoError(t, store.MarkAlert(ctx, id, nil, errors.New("550 refused"), retry))
	}
	more, err := store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Len(t, more, 2)
	for _, id := range more {
		require.NotContains(t, failing, id, "an alert waiting for its next attempt is not queued")
		require.NotEqual(t, second, id)
	}
	none, err := store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Empty(t, none, "every place is held")

	// The first is sent: its webhook's second may go, in the place it left.
	require.NoError(t, store.MarkAlert(ctx, first, []string{"ops@example.com"}, nil, time.Time{}))
	next, err := store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Len(t, next, 1)
	require.Equal(t, second, next[0], "the webhook's second alert, written before the rest")
}

// A place whose task was lost is given back after lostAlertTask.
func TestUnqueueLostAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	p, err := store.EnsurePanel(ctx, "lost")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, p.ID, newSpec("Lost"))
	require.NoError(t, err)
	id, err := store.QueueAlert(ctx, p.ID, w.ID, "disabled", map[string]any{})
	require.NoError(t, err)
	ids, err := store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{id}, ids)
	n, err := store.UnqueueLostAlerts(ctx, store.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "queued a moment ago")
	store.Clock.Advance(time.Hour)
	n, err = store.UnqueueLostAlerts(ctx, store.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	ids, err = store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{id}, ids, "queued again")
}

// An alert written by the release before, which sets no next attempt (its
// processes still run while this release starts), is due at once.
// (Found by review: it was never due, so nothing ever queued it.)
func TestAlertOfThePreviousReleaseIsDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	p, err := store.EnsurePanel(ctx, "upgrade")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, p.ID, newSpec("Upgraded"))
	require.NoError(t, err)
	var old int64
	require.NoError(t, store.SQLDB().QueryRowContext(ctx, `INSERT INTO alerts (panel_id, webhook_id, state, details, created_at)
		VALUES ($1, $2, 'disabled', '{}', now()) RETURNING id`, p.ID, w.ID).Scan(&old))
	store.Clock.Advance(time.Second)
	ids, err := store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{old}, ids)
}

// A webhook's alerts go out in order: a later one waits while an earlier
// one is unsent and still tried, but not behind one given up (MarkAlert
// with no next attempt), which is never sent.
func TestAGivenUpAlertHoldsNoLaterOneBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	p, err := store.EnsurePanel(ctx, "given-up")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, p.ID, newSpec("Given up"))
	require.NoError(t, err)
	first, err := store.QueueAlert(ctx, p.ID, w.ID, "disabled", map[string]any{})
	require.NoError(t, err)
	second, err := store.QueueAlert(ctx, p.ID, w.ID, "recovered", map[string]any{})
	require.NoError(t, err)
	later, err := store.AlertByID(ctx, second)
	require.NoError(t, err)

	refused := errors.New(`550 "5.1.1 no such user"`)
	require.NoError(t, store.MarkAlert(ctx, first, nil, refused, store.Now().Add(time.Minute)))
	earlier, err := store.EarlierUnsentAlert(ctx, later)
	require.NoError(t, err)
	require.Equal(t, first, earlier, "tried again in a minute: the later one waits")

	require.NoError(t, store.MarkAlert(ctx, first, nil, refused, time.Time{}))
	a, err := store.AlertByID(ctx, first)
	require.NoError(t, err)
	require.Nil(t, a.NextAttemptAt, "given up")
	earlier, err = store.EarlierUnsentAlert(ctx, later)
	require.NoError(t, err)
	require.Zero(t, earlier, "given up: the later one goes")
}

// A given-up alert is never sent, so the queue does not keep the webhook's
// later alert waiting behind it either. (Found by review: QueueDueAlerts
// waited for it until it was an hour old, as for one still tried.)
func TestAGivenUpAlertHoldsNoLaterOneOutOfTheQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	p, err := store.EnsurePanel(ctx, "given-up-queue")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, p.ID, newSpec("Given up q"))
	require.NoError(t, err)
	first, err := store.QueueAlert(ctx, p.ID, w.ID, "disabled", map[string]any{})
	require.NoError(t, err)
	require.NoError(t, store.MarkAlert(ctx, first, nil, errors.New(`550 "5.1.1 no such user"`), time.Time{}))
	second, err := store.QueueAlert(ctx, p.ID, w.ID, "recovered", map[string]any{})
	require.NoError(t, err)
	store.Clock.Advance(time.Second)
	later, err := store.AlertByID(ctx, second)
	require.NoError(t, err)
	earlier, err := store.EarlierUnsentAlert(ctx, later)
	require.NoError(t, err)
	require.Zero(t, earlier, "EarlierUnsentAlert: not held")
	ids, err := store.QueueDueAlerts(ctx, p.ID, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{second}, ids, "QueueDueAlerts should queue the later alert")
}

// The sweep's walk from panel to panel does not step through panels whose
// alerts were all given up: 200 such panels cost it no index entries.
// (Found by review: the walk visited each of them every pass, for good.)
func TestAlertSweepStepsOverGivenUpAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	db := store.DBForTest()
	first, err := store.EnsurePanel(ctx, "given-up-0")
	require.NoError(t, err)
	hook, err := store.CreateWebhook(ctx, first.ID, newSpec("Given up"))
	require.NoError(t, err)
	require.NoError(t, db.Exec(`INSERT INTO panels (name, created_at) SELECT 'given-up-' || i, now() FROM generate_series(1, 199) i`).Error)
	// The webhook is one panel's; the walk reads only the alerts' panels.
	require.NoError(t, db.Exec(`INSERT INTO alerts (panel_id, webhook_id, state, details, created_at, attempts, last_error, next_attempt_at)
		SELECT id, ?, 'disabled', '{}', now() - interval '2 days', 3, '550', NULL FROM panels WHERE name LIKE 'given-up-%'`,
		hook.ID).Error)
	due, err := store.EnsurePanel(ctx, "due")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, due.ID, newSpec("Due"))
	require.NoError(t, err)
	_, err = store.QueueAlert(ctx, due.ID, w.ID, "disabled", map[string]any{})
	require.NoError(t, err)
	require.NoError(t, db.Exec(`ANALYZE alerts`).Error)

	sqlDB := store.SQLDB()
	sqlDB.SetMaxOpenConns(1) // the query and the reading of its statistics share a backend
	read := func() int64 {
		_, err := sqlDB.ExecContext(ctx, `SELECT pg_stat_force_next_flush()`)
		require.NoError(t, err)
		var n int64
		require.NoError(t, sqlDB.QueryRowContext(ctx, `SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes
			WHERE relname = 'alerts'`).Scan(&n))
		return n
	}
	store.Clock.Advance(time.Second)
	before := read()
	panels, err := store.PanelsWithDueAlerts(ctx, 0, 10)
	require.NoError(t, err)
	read1 := read() - before
	require.Equal(t, []int64{due.ID}, panels)
	require.Less(t, read1, int64(50), "index entries read: the 200 given-up panels are not stepped through")
}
