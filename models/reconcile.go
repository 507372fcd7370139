package models

import (
	"context"
	"fmt"
	"time"
)

// ExpiredLeases names the webhooks whose send lease ran out with the
// lease still set: the worker holding it died or hung. A flush of such a
// webhook sends its orphaned rows first.
func (s *Store) ExpiredLeases(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`SELECT id FROM webhooks WHERE send_lease_until <= $1 AND status = 'active'`, s.Now()).
		Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("models: expired leases: %w", err)
	}
	return ids, nil
}

// OverdueWebhook is an active webhook whose oldest pending delivery has been
// due for longer than its batch wait plus a grace period: its flush task was
// lost (Redis restarted) or never enqueued (Redis was down).
type OverdueWebhook struct {
	ID          int64
	BatchWaitMS int `gorm:"column:batch_wait_ms"`
}

// OverdueWebhooks finds them, looking only at each webhook's oldest pending
// row (one index probe per active webhook).
func (s *Store) OverdueWebhooks(ctx context.Context, grace time.Duration) ([]OverdueWebhook, error) {
	var out []OverdueWebhook
	err := s.db.WithContext(ctx).Raw(`SELECT w.id, w.batch_wait_ms FROM webhooks w
		WHERE w.status = 'active'
		  AND (SELECT d.next_attempt_at FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending' ORDER BY d.id LIMIT 1)
		      < $1::timestamptz - make_interval(secs => w.batch_wait_ms / 1000.0)`, s.Now().Add(-grace)).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: overdue webhooks: %w", err)
	}
	return out, nil
}

// PruneHistory deletes delivered deliveries, attempts, processed events
// and the records of events set aside older than maxAge, in chunks so no statement holds locks for long. Failed
// and held deliveries are kept: someone still has to decide about them;
// so are events not processed yet. Journey runs are kept: re-entry rules
// read them.
func (s *Store) PruneHistory(ctx context.Context, maxAge time.Duration) (int64, error) {
	cut := s.Now().Add(-maxAge)
	var total int64
	for _, step := range []struct {
		query string
		cut   any
	}{
		// Delivery ids are ULIDs, so "created before cut" is an id range.
		{`DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE status = 'delivered' AND id < $1 LIMIT 5000)`, minIDAt(cut)},
		{`DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE created_at < $1 ORDER BY id LIMIT 5000)`, cut},
		// Events carry what senders said about people; past the window they
		// are only a dedup record, and event_id dedup is promised for it.
		{`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE id < $1 AND processed_at IS NOT NULL LIMIT 5000)`, minIDAt(cut)},
		// An event set aside is gone with its reason, which may quote it
		// (PostgreSQL's detail of a refused row shows the row).
		{`DELETE FROM event_failures WHERE id IN (SELECT id FROM event_failures WHERE failed_at < $1 ORDER BY id LIMIT 5000)`, cut},
	} {
		for {
			res := s.db.WithContext(ctx).Exec(step.query, step.cut)
			if res.Error != nil {
				return total, fmt.Errorf("models: prune history: %w", res.Error)
			}
			total += res.RowsAffected
			if res.RowsAffected < 5000 {
				break
			}
		}
	}
	return total, nil
}

// Gauges is the state of the deployment that metrics report.
type Gauges struct {
	Deliveries        map[string]int64    // by status, delivered ones left out (they are many and only history)
	Webhooks          map[[2]string]int64 // by status and health state
	UnprocessedEvents int64
	WaitingRuns       int64
}

// Gauges reads them. Every count uses a partial index or a small table.
func (s *Store) Gauges(ctx context.Context) (*Gauges, error) {
	g := &Gauges{Deliveries: map[string]int64{}, Webhooks: map[[2]string]int64{}}
	// No row is stored as sending since migration 00028 (issue 15): its
	// gauge stays for dashboards and reads 0 without a scan of the table.
	g.Deliveries[string(DeliverySending)] = 0
	for _, st := range []string{"pending", "failed", "held"} {
		var n int64
		if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE status = $1`, st).Scan(&n); err != nil {
			return nil, fmt.Errorf("models: gauges: %w", err)
		}
		g.Deliveries[st] = n
	}
	if err := s.webhookGauges(ctx, g.Webhooks); err != nil {
		return nil, fmt.Errorf("models: gauges: %w", err)
	}
	if err := s.sql.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM events WHERE processed_at IS NULL),
			(SELECT count(*) FROM journey_runs WHERE status = 'waiting')`).Scan(&g.UnprocessedEvents, &g.WaitingRuns); err != nil {
		return nil, fmt.Errorf("models: gauges: %w", err)
	}
	return g, nil
}

// webhookGauges counts the webhooks by status and health state.
func (s *Store) webhookGauges(ctx context.Context, into map[[2]string]int64) error {
	rows, err := s.sql.QueryContext(ctx, `SELECT status, coalesce(health->>'state', 'healthy'), count(*) FROM webhooks GROUP BY 1, 2`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var status, health string
		var n int64
		if err := rows.Scan(&status, &health, &n); err != nil {
			return err
		}
		into[[2]string{status, health}] = n
	}
	return rows.Err()
}
