// Package models holds Herald's storage: gorm models, queries, migrations
// and the encryption of secrets at rest. It imports neither app nor jobs.
//
// # Reaching the database
//
// Code outside models reaches PostgreSQL only through Store's methods; the
// gorm handle is Store's own (tests alone may borrow it, DBForTest).
// Inside, one rule says how a statement is written:
//
//   - gorm's builder for rows of one model: create, take, update or delete
//     one row by its key, and listings whose filters are put together at
//     run time (tx.Where("panel_id = ?", id).Take(&w)). Its `?` belongs to
//     the builder only.
//   - Hand-written SQL for everything else: set-based statements (many rows
//     at once, unnest, arrays), joins and aggregates, and the hot paths
//     (outbox write, claim and complete, the journey engine, contacts).
//     It always uses PostgreSQL's positional parameters $1, $2, ...; a
//     list is one array parameter (= ANY($1)), never IN ?. gorm's Raw
//     and Exec pass $n through untouched, so a statement reads the same
//     whichever way it runs: through gorm (tx.Raw(...).Scan(&rows), where
//     mapping columns to a struct helps) or through database/sql (the
//     pool, or InTx's Querier) on hot paths, where gorm's rendering of
//     each statement cost a fifth of a worker's CPU.
//
// Every transaction is Store.Tx, or InTx, its wrapper for database/sql
// statements: both retry deadlocks and serialization failures.
package models

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DBConfig tunes the connection pool.
type DBConfig struct {
	URL string
	// MaxOpenConns bounds connections per process; 0 means 20.
	MaxOpenConns int
}

// Open connects to PostgreSQL through gorm and checks the connection.
func Open(ctx context.Context, cfg DBConfig) (*gorm.DB, error) {
	// The pool is opened here rather than by gorm's driver, which replaces
	// the AfterConnect hook with its own when the URL names a time zone
	// (Herald's columns are all timestamptz, which needs no such hook).
	pgxConfig, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("models: database URL: %w", err)
	}
	pool := stdlib.OpenDB(*pgxConfig, stdlib.OptionAfterConnect(registerTypes))
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: pool}), &gorm.Config{
		Logger:                 logger.Discard, // errors are returned and logged by callers, with context
		SkipDefaultTransaction: true,           // single statements need no wrapping transaction
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
		// gorm's own ping has no deadline: a server that accepts and never
		// answers held Open for good. The ping below has one.
		DisableAutomaticPing: true,
	})
	if err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("models: open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("models: open database: %w", err)
	}
	maxOpen := cfg.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 20
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("models: connect to PostgreSQL: %w", err)
	}
	return db, nil
}

// Close closes the pool behind db.
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
