package models_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// Two transactions lock two rows in opposite orders: PostgreSQL aborts one
// with a deadlock, and Tx runs that one again, so both succeed. The locks
// are taken with gorm's Exec and $n placeholders, which gorm's postgres
// dialector passes through as they are.
func TestTxRetriesDeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	a, err := store.EnsurePanel(ctx, modeltest.RandomID())
	require.NoError(t, err)
	b, err := store.EnsurePanel(ctx, modeltest.RandomID())
	require.NoError(t, err)

	var runs atomic.Int32
	var bothLocked sync.WaitGroup
	bothLocked.Add(2)
	// done[i] is closed once transaction i committed. The one PostgreSQL
	// aborted runs again only then: were it to lock again at once, it could
	// take the row back before the other's waiting lock is granted and
	// deadlock a second time (it did, on a loaded machine).
	done := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	lock := func(me int, first, second int64) error {
		defer close(done[me])
		var once sync.Once
		again := false
		return store.Tx(ctx, func(tx *gorm.DB) error {
			runs.Add(1)
			if again {
				<-done[1-me]
			}
			again = true
			if err := tx.Exec(`SELECT id FROM panels WHERE id = $1 FOR UPDATE`, first).Error; err != nil {
				return err
			}
			once.Do(func() { bothLocked.Done(); bothLocked.Wait() })
			return tx.Exec(`UPDATE panels SET name = name WHERE id = $1`, second).Error
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lock(0, a.ID, b.ID) }()
	go func() { errs <- lock(1, b.ID, a.ID) }()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	require.Equal(t, int32(3), runs.Load(), "one of the two ran again")
}

// InTx hands fn the transaction's own connection: what it writes is seen
// inside and undone with the rest when fn fails.
func TestInTxSharesTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	p, err := store.EnsurePanel(ctx, modeltest.RandomID())
	require.NoError(t, err)

	err = store.InTx(ctx, func(q models.Querier) error {
		if _, err := q.ExecContext(ctx, `UPDATE panels SET name = 'renamed_in_tx' WHERE id = $1`, p.ID); err != nil {
			return err
		}
		var name string
		require.NoError(t, q.QueryRowContext(ctx, `SELECT name FROM panels WHERE id = $1`, p.ID).Scan(&name))
		require.Equal(t, "renamed_in_tx", name)
		return models.ErrNotFound
	})
	require.ErrorIs(t, err, models.ErrNotFound)
	got, err := store.EnsurePanel(ctx, p.Name)
	require.NoError(t, err)
	require.Equal(t, p.ID, got.ID, "the rename was rolled back")
}
