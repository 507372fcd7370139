package models_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// A connection sends uuid.UUID values (and *uuid.UUID, nil as NULL),
// alone and in arrays, as binary
// uuid in one step. Without registerTypes pgx took the driver.Valuer's
// string, which binary uuid refuses: it built an error quoting the whole
// argument, then parsed the string and encoded it again: 20 allocations
// for one value, where this takes 2. And the values still arrive as they were.
// (Not parallel: testing.AllocsPerRun refuses to run in a parallel test.)
func TestConnectionsEncodeUUIDsDirectly(t *testing.T) { //nolint:paralleltest // testing.AllocsPerRun
	_, url := modeltest.DB(t)
	// A time zone in the URL made gorm's driver replace the hook with its
	// own (found by review).
	db, err := models.Open(context.Background(), models.DBConfig{URL: url + "&timezone=Europe/Berlin", MaxOpenConns: 1})
	require.NoError(t, err)
	defer func() { _ = models.Close(db) }()
	sqlDB, err := db.DB()
	require.NoError(t, err)
	conn, err := sqlDB.Conn(context.Background())
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()

	ids := []uuid.UUID{uuid.New(), uuid.New()}
	require.NoError(t, conn.Raw(func(driverConn any) error {
		m := driverConn.(*stdlib.Conn).Conn().TypeMap()
		buf := make([]byte, 0, 256)
		one := testing.AllocsPerRun(100, func() {
			_, err = m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, ids[0], buf[:0])
		})
		require.NoError(t, err)
		require.LessOrEqual(t, one, 3.0, "allocations encoding one uuid.UUID")
		many := testing.AllocsPerRun(100, func() {
			_, err = m.Encode(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, ids, buf[:0])
		})
		require.NoError(t, err)
		require.LessOrEqual(t, many, 10.0, "allocations encoding a []uuid.UUID")
		return nil
	}))

	var back, maybe string
	var first uuid.UUID
	var secondIsNull bool
	require.NoError(t, conn.QueryRowContext(context.Background(), `SELECT array_to_string($1::uuid[], ','), $2::uuid,
		array_to_string($3::uuid[], ',', 'null'), ($3::uuid[])[2] IS NULL`, ids, ids[0], []*uuid.UUID{&ids[1], nil}).
		Scan(&back, &first, &maybe, &secondIsNull))
	require.Equal(t, ids[0].String()+","+ids[1].String(), back)
	require.Equal(t, ids[0], first)
	require.Equal(t, ids[1].String()+",null", maybe)
	require.True(t, secondIsNull, "a nil *uuid.UUID is NULL")
	var zone string
	require.NoError(t, conn.QueryRowContext(context.Background(), `SHOW TimeZone`).Scan(&zone))
	require.Equal(t, "Europe/Berlin", zone, "the URL's time zone still applies")
}

// Open gives up with the caller's context on a server that accepts the
// connection and never answers (a hung PostgreSQL, a proxy whose backend
// is gone): gorm's own first ping had no deadline and held it for good
// (found by review).
func TestOpenGivesUpOnAServerThatNeverAnswers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	go func() {
		var held []net.Conn // kept open, never answered
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := models.Open(ctx, models.DBConfig{URL: "postgres://postgres@" + ln.Addr().String() + "/postgres?sslmode=disable"})
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("models.Open still waits 30 s after its context ended")
	}
}
