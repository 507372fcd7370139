package models_test

import (
	"context"
	"strings"
	"testing"
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
	failed, locked, err := store.SetEventAside(ctx, panel.ID, 1, "refused")
	require.NoError(t, err)
	require.True(t, locked, "another worker holds the partition")
	require.Nil(t, failed)
	require.NoError(t, hold.Rollback())

	long := strings.Repeat("é", 1500) + "\x00"
	for _, want := range events {
		failed, locked, err = store.SetEventAside(ctx, panel.ID, 1, long)
		require.NoError(t, err)
		require.False(t, locked)
		require.Equal(t, want.ID, failed.Event, "oldest first")
		require.Equal(t, want.EventID, failed.EventID)
	}
	failed, _, err = store.SetEventAside(ctx, panel.ID, 1, "refused")
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
}
