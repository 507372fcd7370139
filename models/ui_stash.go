package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StashTTL is how long a stash waits for the page it was left for: the
// redirect that follows a post comes at once, so an older one is stale.
const StashTTL = 10 * time.Minute

// stashPurpose binds a stash's ciphertext to its column.
const stashPurpose = "ui_stash.payload"

// PutStash leaves payload (JSON) for the next page of a session named
// page, replacing what was there. It is sealed: it may hold a secret
// shown once.
func (s *Store) PutStash(ctx context.Context, sessionID int64, page string, payload []byte) error {
	_, err := s.sql.ExecContext(ctx, `INSERT INTO ui_stash (session_id, page, payload, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (session_id) DO UPDATE SET page = EXCLUDED.page, payload = EXCLUDED.payload, created_at = EXCLUDED.created_at`,
		sessionID, page, s.Cipher.Seal(stashPurpose, payload), s.Now())
	if err != nil {
		return fmt.Errorf("models: put stash of session %d: %w", sessionID, err)
	}
	return nil
}

// TakeStash returns what PutStash left for page, once: the row is deleted
// as it is read. nil when there is none, it is stale, or it was left for
// another page (which then never sees it: it was the answer to a post
// the user walked away from).
func (s *Store) TakeStash(ctx context.Context, sessionID int64, page string) ([]byte, error) {
	var sealed []byte
	var forPage string
	var at time.Time
	err := s.sql.QueryRowContext(ctx, `DELETE FROM ui_stash WHERE session_id = $1 RETURNING page, payload, created_at`, sessionID).
		Scan(&forPage, &sealed, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: take stash of session %d: %w", sessionID, err)
	}
	if forPage != page || s.Now().Sub(at) > StashTTL {
		return nil, nil
	}
	return s.Cipher.Open(stashPurpose, sealed)
}

// NextRetryAt is when the earliest delivery of a webhook that failed at
// least once is due again; zero when none waits for a retry.
func (s *Store) NextRetryAt(ctx context.Context, panelID, webhookID int64) (time.Time, error) {
	var at sql.NullTime
	err := s.sql.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM deliveries
		WHERE panel_id = $1 AND webhook_id = $2 AND status = 'pending' AND attempts > 0`, panelID, webhookID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("models: next retry of webhook %d: %w", webhookID, err)
	}
	return at.Time, nil
}
