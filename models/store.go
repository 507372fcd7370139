package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Store runs Herald's queries. It owns the Cipher so that secrets are
// encrypted before they reach a row and decrypted only when asked for.
type Store struct {
	Cipher *Cipher
	// Clock is the time every query and decision reads (see Now); tests
	// move it instead of sleeping.
	Clock *Clock
	// PasswordCost is the bcrypt cost of new password hashes; 0 means
	// bcrypt.DefaultCost. Tests lower it: under the race detector each
	// hash at the default cost takes about a second.
	PasswordCost int

	// db is gorm's handle: the builder, Raw/Exec and Tx (see the package
	// doc for which statement goes where).
	db *gorm.DB
	// sql is the same pool seen through database/sql, for the hot
	// statements outside a transaction (outbox write, claim, complete,
	// token checks). On these paths gorm's Raw/Scan rendered a loggable
	// copy of every statement and re-parsed named parameters, a fifth of a
	// worker's CPU in profiles.
	sql *sql.DB
	// auth remembers tokens for a few seconds (see Authenticate).
	auth *authCache
}

// NewStore builds a Store on an open database.
func NewStore(db *gorm.DB, c *Cipher) *Store {
	sqlDB, _ := db.DB() // gorm.Open with a driver always has one
	return &Store{db: db, Cipher: c, Clock: &Clock{}, sql: sqlDB, auth: &authCache{}}
}

// Now is the store's clock reading, in UTC.
func (s *Store) Now() time.Time { return s.Clock.Now() }

// Ping checks that the database answers, for the health check.
func (s *Store) Ping(ctx context.Context) error {
	return s.sql.PingContext(ctx)
}

// SQLDB is the connection pool, for what needs a connection of its own
// outside Store's queries: the scheduler's leader elector holds its
// session-level advisory lock on one.
func (s *Store) SQLDB() *sql.DB { return s.sql }

// DBForTest is the gorm handle, for tests only: their setup and checks
// reach rows that no Store method exposes (counts, back-dated columns).
// Code outside tests goes through Store's methods; the linter refuses a
// call from anywhere else (forbidigo in .golangci.yml).
func (s *Store) DBForTest() *gorm.DB { return s.db }

// uniqueViolation reports whether err is PostgreSQL's unique_violation on
// the named constraint or index.
func uniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// notFound maps gorm's "no rows" to ErrNotFound and leaves other errors alone.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
