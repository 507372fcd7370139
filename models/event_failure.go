package models

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EventFailure is an event set aside unprocessed (SetEventAside).
type EventFailure struct {
	Event    uuid.UUID
	EventID  string
	Source   string
	Name     string
	Reason   string
	FailedAt time.Time
}

// maxFailureReason bounds the reason kept: PostgreSQL's message quotes
// the value it refused, which may be long.
const maxFailureReason = 1000

// SetEventAside marks event, refused by PostgreSQL for its own data,
// processed without processing it, and records why (reason). Left in
// place, it would fail every batch it is in and hold up its partition's
// later events for good. It acts only while that event is still the
// partition's next (as ClaimEvents takes them): an event that committed
// since with an earlier id, or a worker that set it aside meanwhile,
// leaves failed nil and nothing done. locked means another worker holds
// the partition. Like a processed event, the row keeps no more of what
// the sender said about the user.
func (s *Store) SetEventAside(ctx context.Context, panelID int64, part int16, event uuid.UUID, reason string) (failed *EventFailure, locked bool, err error) {
	if r := []rune(reason); len(r) > maxFailureReason {
		reason = string(r[:maxFailureReason]) + "…"
	}
	reason = CleanText([]byte(reason))
	err = s.InTx(ctx, func(q Querier) error {
		events, held, err := s.ClaimEvents(ctx, q, panelID, part, 1)
		if err != nil || held || len(events) == 0 || events[0].ID != event {
			locked = held
			return err
		}
		ev := events[0]
		f := &EventFailure{Event: ev.ID, EventID: ev.EventID, Source: ev.Source, Name: ev.Name, Reason: reason, FailedAt: s.Now()}
		if _, err := q.ExecContext(ctx, `UPDATE events SET processed_at = $2, user_identity = NULL, user_attributes = NULL, raw = NULL
			WHERE id = $1`, ev.ID, f.FailedAt); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO event_failures (panel_id, event, event_id, source, name, reason, failed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, panelID, f.Event, f.EventID, f.Source, f.Name, f.Reason, f.FailedAt); err != nil {
			return err
		}
		failed = f
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("models: set event aside (panel %d part %d): %w", panelID, part, err)
	}
	return failed, locked, nil
}

// EventFailures lists the panel's events set aside, newest first, up to
// limit, and how many there are in all (counted before the limit, in the
// same read).
func (s *Store) EventFailures(ctx context.Context, panelID int64, limit int) (out []EventFailure, total int64, err error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT event, event_id, source, name, reason, failed_at, count(*) OVER ()
		FROM event_failures WHERE panel_id = $1 ORDER BY id DESC LIMIT $2`, panelID, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("models: event failures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f EventFailure
		if err := rows.Scan(&f.Event, &f.EventID, &f.Source, &f.Name, &f.Reason, &f.FailedAt, &total); err != nil {
			return nil, 0, fmt.Errorf("models: event failures: %w", err)
		}
		out = append(out, f)
	}
	return out, total, rows.Err()
}
