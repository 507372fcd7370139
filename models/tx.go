package models

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// txTries bounds how often Tx runs fn when PostgreSQL aborts it for a
// deadlock or a serialization failure.
const txTries = 4

// Tx runs fn in one transaction and commits it: the only way models opens
// a transaction. Deadlocks and serialization failures (two requests
// locking the same contacts or webhooks in another order) abort the
// transaction without harm, so the whole of fn is run again, a few times.
// fn may therefore run more than once: it must set everything it hands
// back from what it reads, not accumulate across runs.
//
// Tx must not be called inside fn: gorm would nest a savepoint, and a
// retry of the inner call could not undo the outer work.
func (s *Store) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for try := 0; try < txTries; try++ {
		err = s.db.WithContext(ctx).Transaction(fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}

// Querier runs hand-written $n statements through database/sql: the
// connection of one transaction (InTx, SetJourneyStatus's check).
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InTx is Tx for hand-written statements: a thin wrapper that hands fn the
// transaction's connection as a Querier, with the same retries. The hot
// set-based statements (journey engine, delivery claims, contacts) keep
// their positional SQL and native arrays and skip gorm's statement
// builder, yet share the transaction, its retries and its rules with
// every other writer.
func (s *Store) InTx(ctx context.Context, fn func(q Querier) error) error {
	return s.Tx(ctx, func(tx *gorm.DB) error { return fn(txQuerier(tx)) })
}

// txQuerier is the connection of a gorm transaction: inside Transaction,
// Statement.ConnPool is the *sql.Tx that gorm began.
func txQuerier(tx *gorm.DB) Querier { return tx.Statement.ConnPool }

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}
