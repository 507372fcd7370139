package models_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// partitionEvents stores n unprocessed events, oldest first, in partition
// part of a new panel.
func partitionEvents(t *testing.T, store *models.Store, part int16, n int) (*models.Panel, []models.Event) {
	t.Helper()
	ctx := context.Background()
	panel, err := store.EnsurePanel(ctx, "acme")
	require.NoError(t, err)
	now := time.Now()
	events := make([]models.Event, n)
	for i := range events {
		events[i] = models.Event{ID: models.NewID(now), PanelID: panel.ID, EventID: modeltest.RandomID(), Source: "api",
			Name: "open", Properties: map[string]any{"n": i}, OccurredAt: now, ReceivedAt: now, Part: part,
			User: &models.Identity{Email: fmt.Sprintf("u%d@example.com", i)}, UserAttributes: map[string]any{"CITY": "Pune"}}
	}
	fresh, err := store.InsertEvents(ctx, events)
	require.NoError(t, err)
	for _, f := range fresh {
		require.True(t, f)
	}
	return panel, events
}

// A partition's events are claimed under its advisory lock alone: a second
// transaction is turned away from the partition, and the claim locks no
// row (a row lock is a write of every claimed event, which the partition
// lock makes redundant).
func TestClaimEventsHoldsThePartitionAndWritesNoRow(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, events := partitionEvents(t, store, 2, 3)

	claimed := make(chan struct{})
	finish := make(chan struct{})
	let := sync.OnceFunc(func() { close(finish) })
	t.Cleanup(let) // the holder ends even if a check below fails
	done := make(chan error, 1)
	go func() {
		done <- store.InTx(ctx, func(q models.Querier) error {
			got, locked, err := store.ClaimEvents(ctx, q, panel.ID, 2, 10)
			switch {
			case err != nil:
				return err
			case locked || len(got) != 3 || got[0].ID != events[0].ID:
				return fmt.Errorf("claimed %d events (locked %v), want the 3, oldest first", len(got), locked)
			}
			close(claimed)
			<-finish
			return nil
		})
	}()
	select {
	case <-claimed:
	case err := <-done:
		t.Fatalf("the claim ended early: %v", err)
	}

	err := store.InTx(ctx, func(q models.Querier) error {
		got, locked, err := store.ClaimEvents(ctx, q, panel.ID, 2, 10)
		require.True(t, locked, "the partition is held")
		require.Empty(t, got)
		return err
	})
	require.NoError(t, err)
	var unlocked int
	require.NoError(t, store.DBForTest().Raw(`SELECT count(*) FROM events WHERE panel_id = ? AND xmax = 0`, panel.ID).
		Scan(&unlocked).Error)
	require.Equal(t, 3, unlocked, "no claimed row is locked (written)")
	let()
	require.NoError(t, <-done)
}

// A contact's events are read, newest first, through an index that holds
// processed events only (migration 00033): events are stored before
// processing, with no contact, and an entry for each of them in
// events_contact was written for nothing. The lookup, planned generically
// as a prepared statement is, still takes the partial index.
func TestContactEventsThroughTheIndexOfProcessedEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, events := partitionEvents(t, store, 0, 4)
	contact := int64(7)
	require.NoError(t, store.InTx(ctx, func(q models.Querier) error {
		return store.MarkProcessed(ctx, q, []uuid.UUID{events[0].ID, events[2].ID}, []*int64{&contact, &contact})
	}))
	got, err := store.ContactEvents(ctx, panel.ID, contact, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []uuid.UUID{events[2].ID, events[0].ID}, []uuid.UUID{got[0].ID, got[1].ID}, "newest first")

	db := store.DBForTest()
	var def string
	require.NoError(t, db.Raw(`SELECT pg_get_indexdef('events_by_contact'::regclass)`).Scan(&def).Error)
	require.Contains(t, def, "WHERE (contact_id IS NOT NULL)")
	var old int
	require.NoError(t, db.Raw(`SELECT count(*) FROM pg_indexes WHERE indexname = 'events_contact'`).Scan(&old).Error)
	require.Zero(t, old, "the index of every event is gone")

	var plan []string
	require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL plan_cache_mode = force_generic_plan`).Error; err != nil {
			return err
		}
		if err := tx.Exec(`PREPARE contact_events(bigint, bigint) AS
			SELECT * FROM events WHERE contact_id = $1 AND panel_id = $2 ORDER BY id DESC LIMIT 10`).Error; err != nil {
			return err
		}
		return tx.Raw(`EXPLAIN EXECUTE contact_events(7, 1)`).Scan(&plan).Error
	}))
	require.Contains(t, strings.Join(plan, "\n"), "events_by_contact", strings.Join(plan, "\n"))
}

// Migration 00033's Down can run again after stopping half way: a failed
// CREATE INDEX CONCURRENTLY leaves an invalid events_contact, which
// IF NOT EXISTS skipped before the valid index was dropped (found by
// review), leaving a contact's events to a scan of the table.
func TestMigration33DownRerunLeavesAValidIndex(t *testing.T) {
	t.Parallel()
	store, provider := migratedDownTo(t, 33)
	db := store.DBForTest()
	// What a failed CREATE INDEX CONCURRENTLY leaves behind.
	require.NoError(t, db.Exec(`CREATE INDEX events_contact ON events (contact_id, id)`).Error)
	require.NoError(t, db.Exec(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'events_contact'::regclass`).Error)
	_, err := provider.DownTo(t.Context(), 32)
	require.NoError(t, err)
	var valid []string
	require.NoError(t, db.Raw(`SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'events'::regclass AND indisvalid
		AND pg_get_indexdef(indexrelid) LIKE '%(contact_id, id)%'`).Scan(&valid).Error)
	require.Equal(t, []string{"events_contact"}, valid)
	_, err = provider.Up(t.Context())
	require.NoError(t, err)
	require.NoError(t, db.Raw(`SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'events'::regclass AND indisvalid
		AND pg_get_indexdef(indexrelid) LIKE '%(contact_id, id)%'`).Scan(&valid).Error)
	require.Equal(t, []string{"events_by_contact"}, valid)
}
