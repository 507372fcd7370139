package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Session is a signed-in browser. The cookie holds a random token; the row
// holds its hash.
type Session struct {
	ID        int64
	TokenHash []byte
	UserID    int64
	// PanelID is the panel the user works in; the panel switcher changes it.
	PanelID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// sessionTokenPrefix tells a leaked session cookie apart from API tokens.
const sessionTokenPrefix = "hs_"

// CreateSession signs a user in to one of their panels for ttl and returns
// the token for the cookie: the only time it exists in clear. The user's
// expired sessions are deleted on the way, which keeps the table small
// without a sweeper.
func (s *Store) CreateSession(ctx context.Context, userID, panelID int64, ttl time.Duration) (string, *Session, error) {
	token := newTokenValue(sessionTokenPrefix)
	now := s.Now()
	sess := Session{TokenHash: HashToken(token), UserID: userID, PanelID: panelID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		sess.ID = 0 // a retried run inserts afresh
		if err := tx.Where("user_id = ? AND expires_at <= ?", userID, now).Delete(&Session{}).Error; err != nil {
			return err
		}
		return tx.Create(&sess).Error
	})
	if err != nil {
		return "", nil, fmt.Errorf("models: create session for user %d: %w", userID, err)
	}
	return token, &sess, nil
}

// SessionInfo is a live session with whom and which panel it is for.
type SessionInfo struct {
	Session
	Email string
	Panel Panel
}

// SessionByToken returns the live session of a cookie token. A session
// whose user has since left its panel is not live: nobody keeps seeing a
// panel after being removed from it.
func (s *Store) SessionByToken(ctx context.Context, token string) (*SessionInfo, error) {
	var row struct {
		Session   `gorm:"embedded"`
		Email     string
		PanelName string
		PanelAt   time.Time
		PanelRate *int
		PanelZone string
	}
	res := s.db.WithContext(ctx).Raw(`SELECT s.*, u.email, p.name AS panel_name, p.created_at AS panel_at,
			p.ingest_rate_limit AS panel_rate, p.time_zone AS panel_zone
		FROM sessions s
		JOIN users u ON u.id = s.user_id
		JOIN user_panels m ON m.user_id = s.user_id AND m.panel_id = s.panel_id
		JOIN panels p ON p.id = s.panel_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, HashToken(token), s.Now()).Scan(&row)
	if res.Error != nil {
		return nil, fmt.Errorf("models: session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return &SessionInfo{Session: row.Session, Email: row.Email,
		Panel: Panel{ID: row.PanelID, Name: row.PanelName, CreatedAt: row.PanelAt, IngestRateLimit: row.PanelRate,
			TimeZone: row.PanelZone}}, nil
}

// SwitchPanel moves a session to another of its user's panels; ErrNotFound
// when the user is not a member of it.
func (s *Store) SwitchPanel(ctx context.Context, sessionID, panelID int64) error {
	res := s.db.WithContext(ctx).Exec(`UPDATE sessions s SET panel_id = $1 WHERE s.id = $2
		AND EXISTS (SELECT 1 FROM user_panels m WHERE m.user_id = s.user_id AND m.panel_id = $3)`, panelID, sessionID, panelID)
	if res.Error != nil {
		return fmt.Errorf("models: switch session %d to panel %d: %w", sessionID, panelID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("models: switch session %d to panel %d: %w", sessionID, panelID, ErrNotFound)
	}
	return nil
}

// DeleteSession signs a cookie token out; an unknown token is no error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	err := s.db.WithContext(ctx).Where("token_hash = ?", HashToken(token)).Delete(&Session{}).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("models: delete session: %w", err)
	}
	return nil
}
