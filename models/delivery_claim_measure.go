package models

// What a delivery claim costs, measured by PostgreSQL itself: helpers for
// the tests of the claim statements (delivery_claim.go). The linter refuses
// a call of the ...ForTest methods from anywhere but tests.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ClaimRowsReadForTest claims the webhook's next batch and then, as if
// that batch were delivered, the one after it (deliveredAndClaimSQL), both
// under EXPLAIN ANALYZE in a transaction it rolls back. It returns how
// many rows each statement's scans of deliveries read: what a claim costs
// with the backlog at hand, whatever plan PostgreSQL chose. For tests only
// (the linter refuses a call from elsewhere).
func (s *Store) ClaimRowsReadForTest(ctx context.Context, webhookID int64, batchSize int) (first, next int, err error) {
	err = s.rolledBack(ctx, func(q Querier) error {
		now := s.Now()
		lease := now.Add(time.Minute).Truncate(time.Microsecond)
		var batch []string
		if first, err = explainRowsRead(ctx, q, claimSQL, webhookID, now, lease, nil, batchSize, batchSize); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, `SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'pending'
			ORDER BY id LIMIT $2`, webhookID, batchSize)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			batch = append(batch, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		var panelID int64
		if err := q.QueryRowContext(ctx, `SELECT panel_id FROM webhooks WHERE id = $1`, webhookID).Scan(&panelID); err != nil {
			return err
		}
		request := make([]int, len(batch))
		for i := range request {
			request[i] = 1
		}
		next, err = explainRowsRead(ctx, q, deliveredAndClaimSQL, panelID, webhookID, []string{"b"}, []int{len(batch)},
			[]string{"{}"}, []int{200}, []int{1}, []string{""}, now, batch, lease, lease.Add(time.Second), batchSize, nil,
			[]*string{nil}, request, []time.Time{now})
		return err
	})
	return first, next, err
}

// explainRowsRead runs query under EXPLAIN ANALYZE and adds up the rows its
// scans of deliveries returned.
func explainRowsRead(ctx context.Context, q Querier, query string, args ...any) (int, error) {
	var text []byte
	if err := q.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) `+query, args...).Scan(&text); err != nil {
		return 0, fmt.Errorf("models: explain: %w", err)
	}
	var plans []struct{ Plan explainNode }
	if err := json.Unmarshal(text, &plans); err != nil || len(plans) == 0 {
		return 0, fmt.Errorf("models: explain: %w", err)
	}
	return plans[0].Plan.rowsRead("deliveries"), nil
}

// rolledBack runs fn in a transaction that it then rolls back, whatever
// fn did: the test helpers' measurements leave no trace.
func (s *Store) rolledBack(ctx context.Context, fn func(q Querier) error) error {
	err := s.InTx(ctx, func(q Querier) error {
		if err := fn(q); err != nil {
			return err
		}
		return errRollback
	})
	if errors.Is(err, errRollback) {
		return nil
	}
	return err
}

var errRollback = errors.New("rolled back")

// explainNode is a node of EXPLAIN's JSON plan.
type explainNode struct {
	Relation string  `json:"Relation Name"`
	Rows     float64 `json:"Actual Rows"`
	Loops    float64 `json:"Actual Loops"`
	// Rows a scan read and dropped: a plan that filters the backlog away
	// read it all the same.
	Filtered  float64       `json:"Rows Removed by Filter"`
	Rechecked float64       `json:"Rows Removed by Index Recheck"`
	Children  []explainNode `json:"Plans"`
}

// rowsRead adds up the rows the scans of table read, over all loops.
// (PostgreSQL reports rows per loop rounded, so a scan returning under one
// row a loop counts as none: the figure is a floor.)
func (n explainNode) rowsRead(table string) int {
	total := 0
	if n.Relation == table {
		total += int((n.Rows + n.Filtered + n.Rechecked) * n.Loops)
	}
	for _, c := range n.Children {
		total += c.rowsRead(table)
	}
	return total
}

// ClaimRowsReadPlannedEmptyForTest prepares claimSQL in one session and
// runs it a few times while the webhook's outbox is empty, so PostgreSQL
// settles on a generic plan made for an empty table (as on a new
// deployment; it keeps such a plan until the table is analyzed), then lets
// fill add rows and returns how many rows of deliveries that plan reads
// to claim batchSize of them, the more of a claim and of one after a dead
// worker's lease ran out. All in a transaction it rolls back. For tests
// only.
func (s *Store) ClaimRowsReadPlannedEmptyForTest(ctx context.Context, webhookID int64, batchSize int,
	fill func(q Querier) error) (int, error) {
	var read int
	err := s.rolledBack(ctx, func(q Querier) error {
		if _, err := q.ExecContext(ctx, `PREPARE claim_for_test(bigint, timestamptz, timestamptz, timestamptz, int, int) AS `+
			claimSQL); err != nil {
			return err
		}
		lease := s.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
		execute := fmt.Sprintf(`EXECUTE claim_for_test(%d, now(), '%s', '%s', %[4]d, %[4]d)`, webhookID, lease, lease, batchSize)
		for range 8 {
			if _, err := q.ExecContext(ctx, execute); err != nil {
				return err
			}
		}
		if err := fill(q); err != nil {
			return err
		}
		fresh, err := explainRowsRead(ctx, q, execute)
		if err != nil {
			return err
		}
		// And a claim after a dead worker: its lease ran out, so the
		// statement also counts the batch's attempt (dead).
		if _, err := q.ExecContext(ctx, `UPDATE webhooks SET send_lease_until = now() - interval '1 minute'
			WHERE id = $1`, webhookID); err != nil {
			return err
		}
		stale, err := explainRowsRead(ctx, q,
			fmt.Sprintf(`EXECUTE claim_for_test(%d, now(), '%s', NULL, %[3]d, %[3]d)`, webhookID, lease, batchSize))
		if err != nil {
			return err
		}
		read = max(fresh, stale)
		return nil
	})
	return read, err
}

// CompletionRowsReadPlannedEmptyForTest is ClaimRowsReadPlannedEmptyForTest
// for the statements that record a batch: it prepares deliveredAndClaimSQL
// and completeSQL in one session, runs each a few times while the webhook's
// outbox is empty (they write nothing: no rows named, no lease matches),
// lets fill add rows, and then records two batches of batchSize pending
// rows, one with each statement, under EXPLAIN ANALYZE. It returns how many
// rows of deliveries each read. All in a transaction it rolls back. For
// tests only.
func (s *Store) CompletionRowsReadPlannedEmptyForTest(ctx context.Context, panelID, webhookID int64, batchSize int,
	fill func(q Querier) error) (deliveredAndClaim, complete int, err error) {
	err = s.rolledBack(ctx, func(q Querier) error {
		if _, err := q.ExecContext(ctx, `PREPARE delivered_for_test AS `+deliveredAndClaimSQL); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `PREPARE complete_for_test AS `+completeSQL); err != nil {
			return err
		}
		stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
		lease, renewed := s.Now().Add(time.Hour).Truncate(time.Microsecond), s.Now().Add(2*time.Hour).Truncate(time.Microsecond)
		delivered := func(ids string) string {
			return fmt.Sprintf(`EXECUTE delivered_for_test(%d, %d, '{b}', '{1}', '{"{}"}', '{200}', '{1}', '{""}', now(), '%s', '%s', '%s',
				%d, NULL, '{NULL}', array_fill(1, ARRAY[cardinality('%[3]s'::uuid[])]), ARRAY[now()])`,
				panelID, webhookID, ids, stamp(lease), stamp(renewed), batchSize)
		}
		completed := func(ids, statuses, times string) string {
			return fmt.Sprintf(`EXECUTE complete_for_test(%d, %d, 'b', 1, '{}', 200, 1, '', '', '', 'delivered', now(), true,
				'%s', '%s', '%s', '%s', NULL, NULL)`, panelID, webhookID, ids, statuses, times, stamp(renewed))
		}
		for range 8 {
			if _, err := q.ExecContext(ctx, delivered("{}")); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, completed("{}", "{}", "{}")); err != nil {
				return err
			}
		}
		if err := fill(q); err != nil {
			return err
		}
		batch := func() (ids, statuses, times string, err error) {
			var n int
			err = q.QueryRowContext(ctx, `SELECT '{' || string_agg(id::text, ',') || '}', count(*),
					'{' || string_agg('delivered', ',') || '}', '{' || string_agg('"' || now()::text || '"', ',') || '}'
				FROM (SELECT id FROM deliveries WHERE webhook_id = $1 AND status = 'pending' ORDER BY id LIMIT $2) b`,
				webhookID, batchSize).Scan(&ids, &n, &statuses, &times)
			if err == nil && n < batchSize {
				err = fmt.Errorf("models: %d pending rows, want %d", n, batchSize)
			}
			return ids, statuses, times, err
		}
		if _, err := q.ExecContext(ctx, `UPDATE webhooks SET send_lease_until = $2 WHERE id = $1`, webhookID, lease); err != nil {
			return err
		}
		ids, _, _, err := batch()
		if err != nil {
			return err
		}
		if deliveredAndClaim, err = explainRowsRead(ctx, q, delivered(ids)); err != nil {
			return err
		}
		ids, statuses, times, err := batch()
		if err != nil {
			return err
		}
		complete, err = explainRowsRead(ctx, q, completed(ids, statuses, times))
		return err
	})
	return deliveredAndClaim, complete, err
}
