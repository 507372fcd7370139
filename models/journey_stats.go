package models

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// NodeCount is an addition to one of a journey step's counters: runs that
// entered it ("entered") or left it by an exit ("next", "happened",
// "timeout", and a webhook node's "delivered" and "failed").
type NodeCount struct {
	JourneyID int64
	Node      string
	Counter   string
	N         int64
}

// nodeCountShards spreads a counter over rows, so concurrent transactions
// rarely wait for each other's row lock.
const nodeCountShards = 16

// AddNodeCounts adds to a journey's step counters, in the transaction that
// moved the runs. Rows are written in key order, so two transactions
// never lock them in opposite orders.
func (s *Store) AddNodeCounts(ctx context.Context, q Querier, counts []NodeCount) error {
	if len(counts) == 0 {
		return nil
	}
	// One row per counter: an INSERT may not update a row twice.
	type key struct {
		journey       int64
		node, counter string
	}
	sums := map[key]int64{}
	for _, c := range counts {
		sums[key{c.JourneyID, c.Node, c.Counter}] += c.N
	}
	counts = counts[:0]
	for k, n := range sums {
		counts = append(counts, NodeCount{JourneyID: k.journey, Node: k.node, Counter: k.counter, N: n})
	}
	slices.SortFunc(counts, func(a, b NodeCount) int {
		return cmp.Or(cmp.Compare(a.JourneyID, b.JourneyID), strings.Compare(a.Node, b.Node), strings.Compare(a.Counter, b.Counter))
	})
	journeys, nodes, counters, ns := make([]int64, len(counts)), make([]string, len(counts)), make([]string, len(counts)), make([]int64, len(counts))
	for i, c := range counts {
		journeys[i], nodes[i], counters[i], ns[i] = c.JourneyID, c.Node, c.Counter, c.N
	}
	_, err := q.ExecContext(ctx, `INSERT INTO journey_node_counts (journey_id, node, counter, shard, n)
		SELECT journey_id, node, counter, $5, n FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
		AS v(journey_id, node, counter, n)
		ON CONFLICT (journey_id, node, counter, shard) DO UPDATE SET n = journey_node_counts.n + excluded.n`,
		journeys, nodes, counters, ns, rand.IntN(nodeCountShards)) //nolint:gosec // a shard, not a secret
	if err != nil {
		return fmt.Errorf("models: add node counts: %w", err)
	}
	return nil
}

// NodeStats are one step's counts.
type NodeStats struct {
	Entered int64 `json:"entered"`
	Waiting int64 `json:"waiting"`
	// Ended is the runs that ended at the step with an error (RunEnded).
	Ended  int64            `json:"ended"`
	Exits  map[string]int64 `json:"exits"`
	Sent   int64            `json:"sent"`
	Failed int64            `json:"failed"`
	Held   int64            `json:"held"`
}

// JourneyStats counts, per step of a journey of the panel: the runs that
// entered it and took each exit (the counters), the runs waiting there now,
// and its webhook deliveries delivered, failed and held (those the
// retention has not deleted yet). Each is one indexed aggregate.
func (s *Store) JourneyStats(ctx context.Context, panelID, journeyID int64) (map[string]*NodeStats, error) {
	out := map[string]*NodeStats{}
	node := func(id string) *NodeStats {
		if out[id] == nil {
			out[id] = &NodeStats{Exits: map[string]int64{}}
		}
		return out[id]
	}
	// The journey must be the panel's: the counters and runs carry no panel.
	var found int
	if err := s.sql.QueryRowContext(ctx, `SELECT count(*) FROM journeys WHERE id = $1 AND panel_id = $2`, journeyID, panelID).
		Scan(&found); err != nil {
		return nil, fmt.Errorf("models: journey stats: %w", err)
	}
	if found == 0 {
		return nil, ErrNotFound
	}
	rows, err := s.sql.QueryContext(ctx, `SELECT node, counter, sum(n) FROM journey_node_counts WHERE journey_id = $1
		GROUP BY node, counter
		UNION ALL SELECT node, 'waiting', count(*) FROM journey_runs WHERE journey_id = $1 AND status = 'waiting' GROUP BY node
		UNION ALL SELECT journey_node, 'delivery ' || status, count(*) FROM deliveries
			WHERE journey_id = $1 AND journey_node <> '' AND status IN ('delivered', 'failed', 'held') GROUP BY journey_node, status`,
		journeyID)
	if err != nil {
		return nil, fmt.Errorf("models: journey stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, what string
		var n int64
		if err := rows.Scan(&id, &what, &n); err != nil {
			return nil, fmt.Errorf("models: journey stats: %w", err)
		}
		st := node(id)
		switch what {
		case "entered":
			st.Entered = n
		case "waiting":
			st.Waiting = n
		case "ended":
			st.Ended = n
		case "delivery delivered":
			st.Sent = n
		case "delivery failed":
			st.Failed = n
		case "delivery held":
			st.Held = n
		default: // an exit: next, happened, timeout, delivered, failed
			st.Exits[what] = n
		}
	}
	return out, rows.Err()
}
