package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// schedulerLockKey is the PostgreSQL advisory lock the scheduler leader
// holds. Advisory locks are per database, so one Herald database has one
// leader whatever the number of scheduler replicas.
const schedulerLockKey int64 = 0x6865_7261_6c64 // "herald"

var errNotLeader = errors.New("elector: another replica is the scheduler leader")

// Elector makes one scheduler replica the leader by holding a session-level
// advisory lock on a dedicated connection. If the leader dies its session
// ends, PostgreSQL releases the lock and the next replica to ask takes over.
// It implements gocron's Elector.
type Elector struct {
	DB *sql.DB

	mu   sync.Mutex
	conn *sql.Conn
}

// IsLeader returns nil when this replica holds (or now takes) the lock.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		if err := e.conn.PingContext(ctx); err == nil {
			return nil
		}
		_ = e.conn.Close() // the session is gone, and the lock with it
		e.conn = nil
	}
	conn, err := e.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("elector: %w", err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, schedulerLockKey).Scan(&got); err != nil {
		_ = conn.Close()
		return fmt.Errorf("elector: %w", err)
	}
	if !got {
		_ = conn.Close()
		return errNotLeader
	}
	e.conn = conn
	return nil
}

// Resign releases leadership, if held.
func (e *Elector) Resign() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn != nil {
		_, _ = e.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, schedulerLockKey)
		_ = e.conn.Close()
		e.conn = nil
	}
}
