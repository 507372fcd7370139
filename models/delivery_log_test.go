package models_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// Migration 00022 gives the deliveries written before it what the log
// shows: a journey delivery its run's contact, and each its event when the
// item names one as text. It goes down and up again cleanly.
func TestMigrationFillsTheDeliveryLog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, provider := migratedDownTo(t, 19)
	db := store.DBForTest()

	now := time.Now()
	run, journeyRow, apiRow, oddRow := models.NewID(now), models.NewID(now), models.NewID(now), models.NewID(now)
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, state, started_at, updated_at)
		VALUES (?, 7, 1, 42, 'completed', 'end', '{}', now(), now())`, run).Error)
	for _, r := range []struct {
		id   any
		run  any
		item string
	}{
		{journeyRow, run, `{"delivery_id": "x", "event": "Added to Cart"}`},
		{apiRow, nil, `{"order": 1, "event": "order_paid"}`},
		{oddRow, nil, `{"event": {"name": "not text"}}`},
	} {
		require.NoError(t, db.Exec(`INSERT INTO deliveries (id, panel_id, webhook_id, journey_id, run_id, item, status, next_attempt_at, created_at, updated_at)
			VALUES (?, 1, 1, 7, ?, ?::json, 'delivered', now(), now(), now())`, r.id, r.run, r.item).Error)
	}
	_, err := provider.Up(ctx)
	require.NoError(t, err)

	var rows []models.Delivery
	require.NoError(t, db.Order("id").Find(&rows).Error)
	require.Len(t, rows, 3)
	got := map[uuid.UUID]models.Delivery{}
	for _, d := range rows {
		got[d.ID] = d
	}
	require.Equal(t, int64(42), *got[journeyRow].ContactID, "the run's contact")
	require.Equal(t, "Added to Cart", got[journeyRow].EventName)
	require.Nil(t, got[apiRow].ContactID, "no run, no contact")
	require.Equal(t, "order_paid", got[apiRow].EventName)
	require.Empty(t, got[oddRow].EventName, "an event that is not text names none")
}

// Migration 00029 gives each delivery written before it the ids of the
// requests that carried it, read from attempts.delivery_ids before their
// index goes, so a timeline reads the same after it.
func TestMigrationKeepsEachDeliverysAttempts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, provider := migratedDownTo(t, 28)
	db := store.DBForTest()

	panel, err := store.EnsurePanel(ctx, "acme")
	require.NoError(t, err)
	w, err := store.CreateWebhook(ctx, panel.ID, newSpec("Orders"))
	require.NoError(t, err)
	now := time.Now()
	retried, once, never := models.NewID(now), models.NewID(now), models.NewID(now)
	for _, id := range []uuid.UUID{retried, once, never} {
		require.NoError(t, db.Exec(`INSERT INTO deliveries (id, panel_id, webhook_id, item, status, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, '{}', 'pending', now(), now(), now())`, id, panel.ID, w.ID).Error)
	}
	attempt := func(ids ...uuid.UUID) int64 {
		var id int64
		require.NoError(t, db.Raw(`INSERT INTO attempts (panel_id, webhook_id, batch_id, item_count, request_headers, outcome,
				created_at, delivery_ids) VALUES (?, ?, 'b', ?, '{}', 'retry', now(), ?::uuid[]) RETURNING id`,
			panel.ID, w.ID, len(ids), "{"+strings.Join(idStrings(ids...), ",")+"}").Scan(&id).Error)
		return id
	}
	first, second := attempt(retried, once), attempt(retried)
	_, err = provider.Up(ctx)
	require.NoError(t, err)

	timeline := func(id uuid.UUID) []int64 {
		d, err := store.WebhookDelivery(ctx, panel.ID, w.ID, id)
		require.NoError(t, err)
		as, err := store.DeliveryTimeline(ctx, d)
		require.NoError(t, err)
		out := []int64{}
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	require.Equal(t, []int64{first, second}, timeline(retried))
	require.Equal(t, []int64{first}, timeline(once))
	require.Empty(t, timeline(never))
}

// migratedDownTo is a test database with the migrations after version
// undone, and the provider that applies them again.
func migratedDownTo(t *testing.T, version int64) (*models.Store, *goose.Provider) {
	t.Helper()
	store := modeltest.Store(t)
	sqlDB, err := store.DBForTest().DB()
	require.NoError(t, err)
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, models.Migrations(), goose.WithDisableGlobalRegistry(true))
	require.NoError(t, err)
	_, err = provider.DownTo(t.Context(), version)
	require.NoError(t, err)
	return store, provider
}

// Migration 00032 pauses the live journeys a step of which names an event
// longer than any ingested event's name may be (every run reaching such a
// wait failed); other journeys are left as they were.
func TestMigrationPausesJourneysThatNameAnEventTooLong(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store, provider := migratedDownTo(t, 31)
	db := store.DBForTest()
	panel, err := store.EnsurePanel(ctx, "acme")
	require.NoError(t, err)
	long := strings.Repeat("y", models.MaxEventName+1)
	def := func(wait string) string {
		return `{"nodes": [{"id": "t", "type": "trigger", "event": "x", "next": "w"},
			{"id": "w", "type": "wait_for_event", "event": "` + wait + `", "within": "1h", "happened": "s", "timeout": "s"},
			{"id": "s", "type": "stop"}]}`
	}
	ids := map[string]int64{}
	for name, j := range map[string]struct{ status, def string }{
		"long live": {"live", def(long)}, "fine live": {"live", def("y")}, "long draft": {"draft", def(long)},
		"no nodes": {"live", `{"nodes": "odd"}`},
	} {
		var id int64
		require.NoError(t, db.Raw(`INSERT INTO journeys (panel_id, name, status, definition) VALUES (?, ?, ?, ?::jsonb) RETURNING id`,
			panel.ID, name, j.status, j.def).Scan(&id).Error)
		ids[name] = id
	}
	_, err = provider.Up(ctx)
	require.NoError(t, err)
	for name, want := range map[string]string{"long live": "paused", "fine live": "live", "long draft": "draft", "no nodes": "live"} {
		var status string
		require.NoError(t, db.Raw(`SELECT status FROM journeys WHERE id = ?`, ids[name]).Scan(&status).Error)
		require.Equal(t, want, status, name)
	}
}

// Migration 00034 counts the runs that ended with an error before it at
// the steps where they ended, so the journey map shows them too.
func TestMigration34CountsTheRunsThatEndedBefore(t *testing.T) {
	t.Parallel()
	store, provider := migratedDownTo(t, 33)
	ctx := t.Context()
	db := store.DBForTest()
	panel, err := store.EnsurePanel(ctx, "ended_before")
	require.NoError(t, err)
	var journeyID int64
	require.NoError(t, db.Raw(`INSERT INTO journeys (panel_id, name, status, definition, created_at, updated_at)
		VALUES (?, 'Before', 'live', '{}', now(), now()) RETURNING id`, panel.ID).Scan(&journeyID).Error)
	require.NoError(t, db.Exec(`INSERT INTO journey_runs (id, journey_id, panel_id, contact_id, status, node, state, end_reason,
		started_at, updated_at, ended_at)
		SELECT gen_random_uuid(), ?, ?, g, s, 'wait', '{}', '', now(), now(), now()
		FROM generate_series(1, 3) g, unnest(ARRAY['ended', 'completed']) s`, journeyID, panel.ID).Error)
	_, err = provider.Up(ctx)
	require.NoError(t, err)
	stats, err := store.JourneyStats(ctx, panel.ID, journeyID)
	require.NoError(t, err)
	require.NotNil(t, stats["wait"])
	require.Equal(t, int64(3), stats["wait"].Ended, "the three ended runs, not the completed ones")
}
