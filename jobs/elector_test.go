package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models/modeltest"
)

func TestOneSchedulerLeaderAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := modeltest.DB(t)
	sqlDB, err := db.DB()
	require.NoError(t, err)
	a, b := &Elector{DB: sqlDB}, &Elector{DB: sqlDB}

	require.NoError(t, a.IsLeader(ctx))
	require.NoError(t, a.IsLeader(ctx), "the leader stays the leader")
	require.ErrorIs(t, b.IsLeader(ctx), errNotLeader)

	a.Resign()
	require.NoError(t, b.IsLeader(ctx), "another replica takes over")
	require.ErrorIs(t, a.IsLeader(ctx), errNotLeader)

	// A leader whose session dies (its process killed) loses the lock with it.
	// Only this test's database: advisory locks are per database.
	res, err := sqlDB.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objid = $1::bigint % 4294967296 AND granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, schedulerLockKey)
	require.NoError(t, err)
	n, _ := res.RowsAffected()
	require.EqualValues(t, 1, n, "the leader's session held the lock")
	require.Eventually(t, func() bool { return a.IsLeader(ctx) == nil }, 5*time.Second, 50*time.Millisecond)
	require.ErrorIs(t, b.IsLeader(ctx), errNotLeader, "the old leader notices it lost the lock")
}
