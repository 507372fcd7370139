package models_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
