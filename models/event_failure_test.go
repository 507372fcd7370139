package models_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models/modeltest"
)

// An event is set aside in its partition's order, under the partition's
// lock, with a reason cut to what the page can show.
func TestSetEventAsideTakesThePartitionsNextEvent(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, events := partitionEvents(t, store, 1, 2)

	hold, err := store.SQLDB().BeginTx(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = hold.Rollback() })
	_, err = hold.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, int32(panel.ID), 1+1_000_000)
	require.NoError(t, err)
	failed, locked, err := store.SetEventAside(ctx, panel.ID, 1, events[0].ID, "refused")
	require.NoError(t, err)
	require.True(t, locked, "another worker holds the partition")
	require.Nil(t, failed)
	require.NoError(t, hold.Rollback())

	// Only the partition's next event is set aside: one that committed
	// before it since, with an earlier id, is not.
	failed, locked, err = store.SetEventAside(ctx, panel.ID, 1, events[1].ID, "refused")
	require.NoError(t, err)
	require.False(t, locked)
	require.Nil(t, failed, "not the next event")

	long := strings.Repeat("é", 1500) + "\x00"
	for _, want := range events {
		failed, locked, err = store.SetEventAside(ctx, panel.ID, 1, want.ID, long)
		require.NoError(t, err)
		require.False(t, locked)
		require.Equal(t, want.ID, failed.Event, "oldest first")
		require.Equal(t, want.EventID, failed.EventID)
	}
	failed, _, err = store.SetEventAside(ctx, panel.ID, 1, events[1].ID, "refused")
	require.NoError(t, err)
	require.Nil(t, failed, "none left")

	listed, total, err := store.EventFailures(ctx, panel.ID, 1)
	require.NoError(t, err)
	require.EqualValues(t, 2, total)
	require.Len(t, listed, 1)
	require.Equal(t, events[1].ID, listed[0].Event, "newest first")
	require.Equal(t, 1001, utf8.RuneCountInString(listed[0].Reason), "cut, with an ellipsis")
	var unprocessed int
	require.NoError(t, store.SQLDB().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE panel_id = $1 AND processed_at IS NULL`,
		panel.ID).Scan(&unprocessed))
	require.Zero(t, unprocessed)
	var kept int
	require.NoError(t, store.SQLDB().QueryRowContext(ctx, `SELECT count(*) FROM events WHERE panel_id = $1
		AND (user_identity IS NOT NULL OR user_attributes IS NOT NULL OR raw IS NOT NULL)`, panel.ID).Scan(&kept))
	require.Zero(t, kept, "no more of what the sender said about the user than a processed event keeps")

	// Pruned with the history: the reason may quote the refused row.
	_, err = store.PruneHistory(ctx, -time.Hour)
	require.NoError(t, err)
	_, total, err = store.EventFailures(ctx, panel.ID, 10)
	require.NoError(t, err)
	require.Zero(t, total)
}
