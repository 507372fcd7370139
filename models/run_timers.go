package models

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Journey timers live in PostgreSQL: a waiting run's deadline is its
// wait_until, indexed (journey_runs_timers, on waiting runs only). Redis
// holds one task per second that has deadlines, and only for the seconds
// due soon; the queries below find those seconds and the runs they end.

// TimerSeconds lists, earliest first, the whole seconds (Unix time) in
// [from, to) in which some waiting run's wait runs out. It skips from one
// second to the next through the index, so it reads one index entry per
// second found, however many runs share a second.
func (s *Store) TimerSeconds(ctx context.Context, from, to time.Time) ([]int64, error) {
	rows, err := s.sql.QueryContext(ctx, `WITH RECURSIVE secs(sec) AS (
		  (SELECT floor(extract(epoch FROM wait_until))::bigint FROM journey_runs
		    WHERE status = 'waiting' AND wait_until >= $1 AND wait_until < $2 ORDER BY wait_until LIMIT 1)
		  UNION ALL
		  SELECT (SELECT floor(extract(epoch FROM r.wait_until))::bigint FROM journey_runs r
		    WHERE r.status = 'waiting' AND r.wait_until >= to_timestamp(secs.sec + 1) AND r.wait_until < $2
		    ORDER BY r.wait_until LIMIT 1)
		  FROM secs WHERE secs.sec IS NOT NULL)
		SELECT sec FROM secs WHERE sec IS NOT NULL`, from, to)
	if err != nil {
		return nil, fmt.Errorf("models: timer seconds: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var sec int64
		if err := rows.Scan(&sec); err != nil {
			return nil, fmt.Errorf("models: timer seconds: %w", err)
		}
		out = append(out, sec)
	}
	return out, rows.Err()
}

// DueTimer is a waiting run whose wait has run out.
type DueTimer struct {
	RunID     uuid.UUID
	JourneyID int64
	ContactID int64
	WaitUntil time.Time
}

// TimerCursor is where a pass over a second's deadlines stands in one
// journey: after the run ID with the deadline At.
type TimerCursor struct {
	At time.Time
	ID uuid.UUID
}

// TimerCursors are a pass's cursors, by journey.
type TimerCursors map[int64]TimerCursor

// Advance moves the cursors past the runs of a batch DueTimers found.
func (c TimerCursors) Advance(due []DueTimer) {
	for _, d := range due {
		at := TimerCursor{At: d.WaitUntil, ID: d.RunID}
		if cur, ok := c[d.JourneyID]; !ok || at.After(cur) {
			c[d.JourneyID] = at
		}
	}
}

// After reports whether c comes after d in the order of deadlines and ids.
func (c TimerCursor) After(d TimerCursor) bool {
	if !c.At.Equal(d.At) {
		return c.At.After(d.At)
	}
	return bytes.Compare(c.ID[:], d.ID[:]) > 0
}

// DueTimers finds up to limit waiting runs of live journeys whose wait ran
// out at or before now, within [from, to), each journey's after its cursor
// (none: from the start). It takes a fair share of each panel: the panels'
// earliest runs first, then their second earliest, and so on, so a panel
// whose 100,000 waits run out in this second fills a batch only with what
// no other panel needs, and another panel's run due in the same second is
// in the first batch. It reads each live journey's due runs in deadline
// order, up to four times limit shared among the panels that have some,
// and each panel's share among its journeys that have some (at most limit,
// at least one each): so a batch is full when one journey's crowd shares
// the second with a few others' runs, it reads about four times what it
// returns however many journeys share it, and a panel that spreads its
// crowd over many journeys takes no more of a batch than one with a single
// journey (shared among all journeys alike, a panel with 1,000 of them
// left another's journey 8 of each 2,000). The lower bound and the order
// are on the index's own columns (journey, deadline, id), a row comparison
// only that index answers: written on the
// deadline alone, PostgreSQL read each journey's runs through the index on
// the deadline when one second held most waiting runs, the whole second
// once a journey; with the upper bound a row comparison too, it read a
// journey's every waiting run through the index on its steps. It locks
// nothing: the caller locks and checks them again. The cursors let a pass
// step over the index entries of the runs it moved, which stay in the
// index until a vacuum: without them, each batch of a crowded second would
// read them all again. Whether
// a journey has due runs is one probe of that index too (a lateral with
// LIMIT 1): asked as EXISTS, the plan PostgreSQL settles on after five
// executions, which cannot see the bounds, read the whole second through
// the index on the deadline on every batch.
func (s *Store) DueTimers(ctx context.Context, from, to, now time.Time, after TimerCursors, limit int) ([]DueTimer, error) {
	journeys, ats, ids := make([]int64, 0, len(after)), make([]time.Time, 0, len(after)), make([]uuid.UUID, 0, len(after))
	for j, c := range after {
		journeys, ats, ids = append(journeys, j), append(ats, c.At), append(ids, c.ID)
	}
	// A journey without a cursor starts before its first run of the
	// second: (from, the nil id) comes before every run due at from.
	rows, err := s.sql.QueryContext(ctx, `WITH cursors AS (
			SELECT * FROM unnest($5::bigint[], $6::timestamptz[], $7::uuid[]) AS c(journey, at, id)
		), active AS (
			SELECT j.id, j.panel_id, coalesce(c.at, $1) AS at, coalesce(c.id, '00000000-0000-0000-0000-000000000000') AS after,
			       count(*) OVER (PARTITION BY j.panel_id) AS siblings
			FROM journeys j LEFT JOIN cursors c ON c.journey = j.id
			CROSS JOIN LATERAL (
				SELECT 1 FROM journey_runs r WHERE r.journey_id = j.id AND r.status = 'waiting'
				  AND (r.journey_id, r.wait_until, r.id) > (j.id, coalesce(c.at, $1::timestamptz), coalesce(c.id, '00000000-0000-0000-0000-000000000000'))
				  AND r.wait_until < least($2::timestamptz, $3::timestamptz + interval '1 microsecond')
				ORDER BY r.journey_id, r.wait_until, r.id LIMIT 1) probe
			WHERE j.status = 'live'
		), panel_share AS (
			SELECT ceil(4.0 * $4::int / greatest(count(DISTINCT panel_id), 1)) AS n FROM active
		)
		SELECT id, journey_id, contact_id, wait_until FROM (
			SELECT d.*, row_number() OVER (PARTITION BY a.panel_id ORDER BY d.wait_until, d.id) AS n
			FROM active a CROSS JOIN LATERAL (
				SELECT r.id, r.journey_id, r.contact_id, r.wait_until FROM journey_runs r
				WHERE r.journey_id = a.id AND r.status = 'waiting'
				  AND (r.journey_id, r.wait_until, r.id) > (a.id, a.at, a.after)
				  AND r.wait_until < least($2, $3 + interval '1 microsecond')
				ORDER BY r.journey_id, r.wait_until, r.id
				LIMIT greatest(1, least($4::int, ceil((SELECT n FROM panel_share) / a.siblings)::int))) d) ranked
		ORDER BY n, wait_until, id LIMIT $4`, from, to, now, limit, journeys, ats, ids)
	if err != nil {
		return nil, fmt.Errorf("models: due timers: %w", err)
	}
	defer rows.Close()
	var out []DueTimer
	for rows.Next() {
		var d DueTimer
		if err := rows.Scan(&d.RunID, &d.JourneyID, &d.ContactID, &d.WaitUntil); err != nil {
			return nil, fmt.Errorf("models: due timers: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NextTimer is the earliest deadline of a waiting run after after and
// before before; nil when there is none.
func (s *Store) NextTimer(ctx context.Context, after, before time.Time) (*time.Time, error) {
	var next sql.NullTime
	err := s.sql.QueryRowContext(ctx, `SELECT min(wait_until) FROM journey_runs
		WHERE status = 'waiting' AND wait_until > $1 AND wait_until < $2`, after, before).Scan(&next)
	if err != nil {
		return nil, fmt.Errorf("models: next timer: %w", err)
	}
	if !next.Valid {
		return nil, nil //nolint:nilnil // no deadline is an answer, not an error
	}
	return &next.Time, nil
}

// LockTimerRuns locks the runs that are still waiting among due, with
// their contacts: the contacts first, in id order, like every writer of
// runs, then the runs. A contact another transaction holds is not waited
// for: its runs are left out, returned in busy. That transaction is often
// another panel's (a long batch of its events), and a timers task moves
// every panel's runs of its second.
func (s *Store) LockTimerRuns(ctx context.Context, q Querier, due []DueTimer) (runs []Run, contacts map[int64]*Contact, busy []DueTimer, err error) {
	contactIDs := make([]int64, len(due))
	for i, d := range due {
		contactIDs[i] = d.ContactID
	}
	locked, err := s.lockContactsByID(ctx, q, contactIDs, true)
	if err != nil {
		return nil, nil, nil, err
	}
	contacts = make(map[int64]*Contact, len(locked))
	for _, c := range locked {
		contacts[c.ID] = c
	}
	var missing []int64
	for _, d := range due {
		if contacts[d.ContactID] == nil {
			missing = append(missing, d.ContactID)
		}
	}
	held := map[int64]bool{} // by another transaction; the others are gone
	if len(missing) > 0 {
		rows, err := q.QueryContext(ctx, `SELECT id FROM contacts WHERE id = ANY($1)`, missing)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
			}
			held[id] = true
		}
		if err := rows.Err(); err != nil {
			return nil, nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
		}
	}
	var runIDs []uuid.UUID
	for _, d := range due {
		switch {
		case contacts[d.ContactID] != nil:
			runIDs = append(runIDs, d.RunID)
		case held[d.ContactID]:
			busy = append(busy, d)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM journey_runs
		WHERE id = ANY($1) AND status = 'waiting' ORDER BY id FOR UPDATE`, runIDs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
	}
	if runs, err = scanRuns(rows); err != nil {
		return nil, nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
	}
	return runs, contacts, busy, nil
}

// maxEndReason bounds a run's end reason, which may quote a refused value.
const maxEndReason = 500

// EndRefusedRun ends a waiting run whose next step PostgreSQL refused
// (journey.Engine.endRefused), with reason: a run still due (its wait ran
// out, or its awaited event came while its journey was paused), or, when
// awaiting is not nil, a run still waiting for that delivery. ended is
// false when it moved on meanwhile; panelID is its panel's.
func (s *Store) EndRefusedRun(ctx context.Context, runID uuid.UUID, awaiting *uuid.UUID, reason string) (panelID int64, ended bool, err error) {
	if r := []rune(reason); len(r) > maxEndReason {
		reason = string(r[:maxEndReason]) + "…"
	}
	now := s.Now()
	err = s.InTx(ctx, func(q Querier) error {
		var journeyID int64
		var node string
		err := q.QueryRowContext(ctx, `UPDATE journey_runs SET status = 'ended', end_reason = $2, ended_at = $3, updated_at = $3
			WHERE id = $1 AND status = 'waiting'
			  AND CASE WHEN $4::uuid IS NULL THEN (happened OR wait_until <= $3) ELSE awaits_delivery = $4::uuid END
			RETURNING panel_id, journey_id, node`, runID, CleanText([]byte(reason)), now, awaiting).Scan(&panelID, &journeyID, &node)
		if err != nil {
			return err
		}
		// Counted at its step (JourneyStats), as the runs the engine ends.
		return s.AddNodeCounts(ctx, q, []NodeCount{{JourneyID: journeyID, Node: node, Counter: "ended", N: 1}})
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("models: end refused run %s: %w", runID, err)
	}
	return panelID, true, nil
}
