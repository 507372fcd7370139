package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// TokenKind says what a token may do.
type TokenKind string

const (
	// TokenAdmin authenticates the admin JSON API for one panel.
	TokenAdmin TokenKind = "admin"
	// TokenIngest authenticates the ingest API for one panel.
	TokenIngest TokenKind = "ingest"
)

// tokenPrefix makes a leaked token recognisable to secret scanners.
var tokenPrefix = map[TokenKind]string{TokenAdmin: "hrld_", TokenIngest: "sk_live_"}

// Token is a stored credential: only its hash is kept.
type Token struct {
	ID         int64
	PanelID    int64
	Kind       TokenKind
	Hash       []byte
	Hint       string
	Label      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// HashToken is how a presented token is looked up.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newTokenValue returns prefix + 40 base62 characters (about 238 bits).
func newTokenValue(prefix string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	b.WriteString(prefix)
	buf := make([]byte, 40)
	_, _ = rand.Read(buf)
	for _, c := range buf {
		// 256 % 62 != 0 gives a bias of under 2 %, irrelevant at 238 bits.
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}

// CreateToken makes a new token for a panel and returns it in clear: this is
// the only time it can be shown.
func (s *Store) CreateToken(ctx context.Context, panelID int64, kind TokenKind, label string) (string, *Token, error) {
	value := newTokenValue(tokenPrefix[kind])
	t := Token{PanelID: panelID, Kind: kind, Hash: HashToken(value), Hint: value[:len(tokenPrefix[kind])+4], Label: label}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		return "", nil, fmt.Errorf("models: create %s token: %w", kind, err)
	}
	return value, &t, nil
}

// authCacheTTL is how long a token's panel is remembered. A revocation
// clears this process's memory at once; other replicas forget within it.
const authCacheTTL = 5 * time.Second

type authEntry struct {
	panel   *Panel
	tokenID int64
	expires time.Time
}

// authCache remembers tokens by hash, so a busy ingest key costs one query
// every few seconds instead of one per request.
type authCache struct {
	mu sync.Mutex
	m  map[string]authEntry
}

// CachedAuth is the panel of a live token this Store authenticated within
// the last authCacheTTL, or nil: what Authenticate answers without asking
// the database.
func (s *Store) CachedAuth(kind TokenKind, token string) *Panel {
	key := string(kind) + string(HashToken(token))
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	if e, ok := s.auth.m[key]; ok && s.Now().Before(e.expires) {
		return e.panel
	}
	return nil
}

// Authenticate returns the panel a live token of this kind belongs to.
func (s *Store) Authenticate(ctx context.Context, kind TokenKind, token string) (*Panel, error) {
	if !strings.HasPrefix(token, tokenPrefix[kind]) {
		return nil, ErrNotFound
	}
	if p := s.CachedAuth(kind, token); p != nil {
		return p, nil
	}
	hash := HashToken(token)
	now := s.Now()
	key := string(kind) + string(hash)

	var p Panel
	var tokenID int64
	var lastUsed *time.Time
	var health []byte
	err := s.sql.QueryRowContext(ctx, `SELECT t.id, t.last_used_at, p.id, p.name, p.ingest_rate_limit, p.health_settings, p.created_at
		FROM tokens t JOIN panels p ON p.id = t.panel_id
		WHERE t.hash = $1 AND t.kind = $2 AND t.revoked_at IS NULL`, hash, string(kind)).
		Scan(&tokenID, &lastUsed, &p.ID, &p.Name, &p.IngestRateLimit, &health, &p.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: authenticate: %w", err)
	}
	p.HealthSettings = health
	if lastUsed == nil || now.Sub(*lastUsed) > time.Minute {
		// Coarse on purpose: one write a minute per token, not one per request.
		_, _ = s.sql.ExecContext(ctx, `UPDATE tokens SET last_used_at = $2 WHERE id = $1`, tokenID, now)
	}
	s.auth.mu.Lock()
	if s.auth.m == nil || len(s.auth.m) > 10_000 {
		s.auth.m = map[string]authEntry{}
	}
	s.auth.m[key] = authEntry{panel: &p, tokenID: tokenID, expires: now.Add(authCacheTTL)}
	s.auth.mu.Unlock()
	return &p, nil
}

// forgetPanel drops a panel's tokens from this process's memory, after its
// settings changed.
func (s *Store) forgetPanel(panelID int64) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	for k, e := range s.auth.m {
		if e.panel.ID == panelID {
			delete(s.auth.m, k)
		}
	}
}

// forgetToken drops a token from this process's memory.
func (s *Store) forgetToken(tokenID int64) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	for k, e := range s.auth.m {
		if e.tokenID == tokenID {
			delete(s.auth.m, k)
		}
	}
}

// RevokeToken revokes one token of a panel.
func (s *Store) RevokeToken(ctx context.Context, panelID int64, kind TokenKind, id int64) error {
	res := s.db.WithContext(ctx).Model(&Token{}).
		Where("id = ? AND panel_id = ? AND kind = ? AND revoked_at IS NULL", id, panelID, kind).
		Update("revoked_at", s.Now())
	if res.Error != nil {
		return fmt.Errorf("models: revoke token %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("models: revoke token %d: %w", id, ErrNotFound)
	}
	s.forgetToken(id)
	return nil
}

// ListTokens lists a panel's live tokens of one kind, newest first.
func (s *Store) ListTokens(ctx context.Context, panelID int64, kind TokenKind) ([]Token, error) {
	var ts []Token
	err := s.db.WithContext(ctx).Where("panel_id = ? AND kind = ? AND revoked_at IS NULL", panelID, kind).
		Order("id DESC").Find(&ts).Error
	if err != nil {
		return nil, fmt.Errorf("models: list tokens: %w", err)
	}
	return ts, nil
}
