package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Journey timers live in PostgreSQL: a waiting run's deadline is its
// wait_until, indexed by panel (journey_runs_panel_timers, on waiting runs
// only). Redis holds one task per panel and second that has deadlines,
// and only for the seconds due soon; the queries below find those seconds
// and the runs they end. Each names its panel, so one panel's crowded
// second is its own task's work, never another panel's wait.

// PanelSecond is a whole second (Unix time) in which some waiting runs of
// a panel have their deadlines.
type PanelSecond struct {
	PanelID int64
	Second  int64
}

// TimerSeconds lists the panels' seconds in [from, to) in which some
// waiting run's wait runs out, earliest first. It skips from one panel
// with waiting runs to the next, and within a panel from one second to
// the next, through the index: it reads one index entry per panel with
// waiting runs and per second found, however many runs share a second.
func (s *Store) TimerSeconds(ctx context.Context, from, to time.Time) ([]PanelSecond, error) {
	rows, err := s.sql.QueryContext(ctx, `WITH RECURSIVE panels(id) AS (
		  (SELECT panel_id FROM journey_runs WHERE status = 'waiting' ORDER BY panel_id LIMIT 1)
		  UNION ALL
		  SELECT (SELECT r.panel_id FROM journey_runs r WHERE r.status = 'waiting' AND r.panel_id > panels.id
		          ORDER BY r.panel_id LIMIT 1)
		  FROM panels WHERE panels.id IS NOT NULL
		), secs(panel, sec) AS (
		  SELECT panels.id, (SELECT floor(extract(epoch FROM r.wait_until))::bigint FROM journey_runs r
		    WHERE r.panel_id = panels.id AND r.status = 'waiting' AND r.wait_until >= $1 AND r.wait_until < $2
		    ORDER BY r.wait_until LIMIT 1)
		  FROM panels WHERE panels.id IS NOT NULL
		  UNION ALL
		  SELECT secs.panel, (SELECT floor(extract(epoch FROM r.wait_until))::bigint FROM journey_runs r
		    WHERE r.panel_id = secs.panel AND r.status = 'waiting' AND r.wait_until >= to_timestamp(secs.sec + 1)
		      AND r.wait_until < $2
		    ORDER BY r.wait_until LIMIT 1)
		  FROM secs WHERE secs.sec IS NOT NULL)
		SELECT panel, sec FROM secs WHERE sec IS NOT NULL ORDER BY sec, panel`, from, to)
	if err != nil {
		return nil, fmt.Errorf("models: timer seconds: %w", err)
	}
	defer rows.Close()
	var out []PanelSecond
	for rows.Next() {
		var ps PanelSecond
		if err := rows.Scan(&ps.PanelID, &ps.Second); err != nil {
			return nil, fmt.Errorf("models: timer seconds: %w", err)
		}
		out = append(out, ps)
	}
	return out, rows.Err()
}

// DueTimer is a waiting run whose wait has run out.
type DueTimer struct {
	RunID     uuid.UUID
	ContactID int64
	WaitUntil time.Time
}

// TimerCursor is where a pass over a second's deadlines stands: after the
// run ID with the deadline At.
type TimerCursor struct {
	At time.Time
	ID uuid.UUID
}

// DueTimers finds up to limit waiting runs of the panel's live journeys
// whose wait ran out at or before now, within [from, to) and after the
// cursor, in the order of their deadlines. It locks nothing: the caller
// locks and checks them again. The cursor lets a pass step over the index
// entries of the runs it moved, which stay in the index until a vacuum:
// without it, each batch of a crowded second would read them all again.
func (s *Store) DueTimers(ctx context.Context, panelID int64, from, to, now time.Time, after TimerCursor, limit int) ([]DueTimer, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT r.id, r.contact_id, r.wait_until FROM journey_runs r
		JOIN journeys j ON j.id = r.journey_id AND j.status = 'live'
		WHERE r.panel_id = $7 AND r.status = 'waiting' AND r.wait_until >= $1 AND r.wait_until < $2 AND r.wait_until <= $3
		  AND r.wait_until >= $5 AND (r.wait_until, r.id) > ($5, $6)
		ORDER BY r.wait_until, r.id LIMIT $4`, from, to, now, limit, after.At, after.ID, panelID)
	if err != nil {
		return nil, fmt.Errorf("models: due timers: %w", err)
	}
	defer rows.Close()
	var out []DueTimer
	for rows.Next() {
		var d DueTimer
		if err := rows.Scan(&d.RunID, &d.ContactID, &d.WaitUntil); err != nil {
			return nil, fmt.Errorf("models: due timers: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NextTimer is the earliest deadline of a waiting run of the panel after
// after and before before; nil when there is none.
func (s *Store) NextTimer(ctx context.Context, panelID int64, after, before time.Time) (*time.Time, error) {
	var next sql.NullTime
	err := s.sql.QueryRowContext(ctx, `SELECT min(wait_until) FROM journey_runs
		WHERE panel_id = $3 AND status = 'waiting' AND wait_until > $1 AND wait_until < $2`, after, before, panelID).Scan(&next)
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
// runs, then the runs.
func (s *Store) LockTimerRuns(ctx context.Context, q Querier, due []DueTimer) ([]Run, map[int64]*Contact, error) {
	runIDs := make([]uuid.UUID, len(due))
	contactIDs := make([]int64, len(due))
	for i, d := range due {
		runIDs[i], contactIDs[i] = d.RunID, d.ContactID
	}
	contacts, err := s.lockContactsByID(ctx, q, contactIDs)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]*Contact, len(contacts))
	for _, c := range contacts {
		byID[c.ID] = c
	}
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM journey_runs
		WHERE id = ANY($1) AND status = 'waiting' ORDER BY id FOR UPDATE`, runIDs)
	if err != nil {
		return nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, nil, fmt.Errorf("models: lock timer runs: %w", err)
	}
	return runs, byID, nil
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
