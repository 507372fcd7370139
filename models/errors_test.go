package models

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	// A real failed connection: a loopback port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().(*net.TCPAddr)
	require.NoError(t, l.Close())
	_, err = pgconn.Connect(context.Background(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?connect_timeout=2", addr.Port))
	require.Error(t, err)
	require.True(t, Unavailable(fmt.Errorf("authenticate: %w", err)), "%v", err)

	require.True(t, Unavailable(&pgconn.PgError{Code: "57P03"}), "not accepting connections yet")
	// A server that refuses the role is a configuration to fix, not an outage.
	_, err = pgconn.Connect(context.Background(), "postgres://no_such_role_herald@127.0.0.1:5432/postgres?sslmode=disable")
	require.Error(t, err)
	require.False(t, Unavailable(err), "%v", err)
	require.True(t, Unavailable(&pgconn.PgError{Code: "08006"}), "connection failure")
	require.False(t, Unavailable(&pgconn.PgError{Code: "42601"}), "a syntax error is the statement's fault")
	require.False(t, Unavailable(&pgconn.PgError{Code: "23505"}), "a unique violation is the statement's fault")
	require.False(t, Unavailable(ErrNotFound))
	require.False(t, Unavailable(errors.New("boom")))
}

func TestDataError(t *testing.T) {
	t.Parallel()
	// What jsonb says of an unpaired surrogate, from the real server.
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(ctx) })
	_, err = conn.Exec(ctx, `SELECT '{"a": "\ud800"}'::jsonb`).ReadAll()
	reason, ok := DataError(fmt.Errorf("insert: %w", err))
	require.True(t, ok, "%v", err)
	require.Contains(t, reason, "invalid input syntax for type json")
	require.Contains(t, reason, "surrogate", "PostgreSQL's detail says what is wrong")

	for code, want := range map[string]bool{"22P05": true, "22003": true, "23502": true, "23514": true,
		"23505": false, "23503": false, "42601": false, "08006": false, "57P01": false} {
		_, ok := DataError(&pgconn.PgError{Code: code})
		require.Equal(t, want, ok, code)
	}
	_, ok = DataError(errors.New("boom"))
	require.False(t, ok)
	_, ok = DataError(nil)
	require.False(t, ok)
}

// What the data's own fault is, to the processing of events: any refused
// value or broken constraint, but not a failing connection or statement.
func TestRefusedByData(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{"22P05": true, "22003": true, "23502": true, "23514": true,
		"23505": true, "23503": true, "54000": true, "42601": false, "08006": false, "57P01": false, "40001": false, "57014": false} {
		_, ok := RefusedByData(fmt.Errorf("save: %w", &pgconn.PgError{Code: code}))
		require.Equal(t, want, ok, code)
	}
	reason, ok := RefusedByData(&pgconn.PgError{Code: "23505", Message: "duplicate key", Detail: "Key (email)=(a@b.c) already exists."})
	require.True(t, ok)
	require.Equal(t, "duplicate key: Key (email)=(a@b.c) already exists.", reason)
	_, ok = RefusedByData(errors.New("boom"))
	require.False(t, ok)
}
