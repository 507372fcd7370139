package models

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// UnsavedTestValidity is how long a passing test of an unsaved configuration
// lets that configuration be saved and activated without another test.
const UnsavedTestValidity = time.Hour

// WebhookTest is the record of one test request.
type WebhookTest struct {
	ID           int64
	PanelID      int64
	WebhookID    *int64
	ConfigFP     []byte
	URL          string
	Passed       bool
	StatusCode   int
	LatencyMS    int
	ResponseBody string
	Error        string
	ErrorClass   string
	CreatedAt    time.Time
}

// TableName pins the table: gorm would guess "webhook_tests" anyway, but the
// schema is the contract.
func (WebhookTest) TableName() string { return "webhook_tests" }

// CleanText makes bytes from a remote server storable as PostgreSQL text:
// invalid UTF-8 is replaced and NUL bytes, which text refuses, are dropped.
func CleanText(b []byte) string {
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// RecordTest stores a test result.
func (s *Store) RecordTest(ctx context.Context, t *WebhookTest) error {
	t.ResponseBody = CleanText([]byte(t.ResponseBody))
	t.Error = CleanText([]byte(t.Error))
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("models: record test: %w", err)
	}
	return nil
}

// LastTests returns the latest test of each of the given assets.
func (s *Store) LastTests(ctx context.Context, webhookIDs []int64) (map[int64]WebhookTest, error) {
	out := make(map[int64]WebhookTest, len(webhookIDs))
	if len(webhookIDs) == 0 {
		return out, nil
	}
	var ts []WebhookTest
	err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT ON (webhook_id) * FROM webhook_tests
		WHERE webhook_id = ANY($1) ORDER BY webhook_id, id DESC`, webhookIDs).Scan(&ts).Error
	if err != nil {
		return nil, fmt.Errorf("models: last tests: %w", err)
	}
	for _, t := range ts {
		out[*t.WebhookID] = t
	}
	return out, nil
}

// LastTestOfConfig returns the latest test that speaks for a webhook: one
// of the webhook itself, or of its current configuration tested before it
// was saved (how the UI's Save verifies a new webhook). nil when none is kept.
func (s *Store) LastTestOfConfig(ctx context.Context, w *Webhook) (*WebhookTest, error) {
	var t WebhookTest
	err := s.db.WithContext(ctx).Where("panel_id = ? AND (webhook_id = ? OR (webhook_id IS NULL AND config_fp = ?))",
		w.PanelID, w.ID, w.ConfigFP).Order("id DESC").Limit(1).Find(&t).Error
	if err != nil {
		return nil, fmt.Errorf("models: last test of webhook %d: %w", w.ID, err)
	}
	if t.ID == 0 {
		return nil, nil
	}
	return &t, nil
}

// verified reports whether the asset's current configuration passed its
// latest test (see passedTest); for an asset the failure tracker disabled,
// a test run after that.
func (s *Store) verified(tx *gorm.DB, w *Webhook) (bool, error) {
	ok, err := s.passedTest(tx, w.PanelID, w.ID, w.ConfigFP, w.DisabledAt)
	if err != nil {
		return false, fmt.Errorf("models: check tests of webhook %d: %w", w.ID, err)
	}
	return ok, nil
}

// TestPassed reports whether the configuration spec passed its latest
// test, as activation would see it: a test of the asset webhookID (0 for a
// configuration not saved yet), or of the same configuration tested unsaved
// in the panel within UnsavedTestValidity. The UI's Save asks this before
// it stores anything.
func (s *Store) TestPassed(ctx context.Context, panelID, webhookID int64, spec *WebhookSpec) (bool, error) {
	ok, err := s.passedTest(s.db.WithContext(ctx), panelID, webhookID, s.ConfigFingerprint(spec), nil)
	if err != nil {
		return false, fmt.Errorf("models: check tests of a configuration: %w", err)
	}
	return ok, nil
}

// passedTest reports whether the latest test of configuration fp passed:
// a test of the asset webhookID, or of the same configuration tested
// unsaved in the panel within UnsavedTestValidity; with since, only a test
// run after it counts (a disabled endpoint comes back only on a test it
// passed since).
func (s *Store) passedTest(tx *gorm.DB, panelID, webhookID int64, fp []byte, since *time.Time) (bool, error) {
	var last WebhookTest
	q := tx.Where("panel_id = ? AND config_fp = ? AND (webhook_id = ? OR (webhook_id IS NULL AND created_at > ?))",
		panelID, fp, webhookID, s.Now().Add(-UnsavedTestValidity))
	if since != nil {
		q = q.Where("created_at > ?", *since)
	}
	if err := q.Order("id DESC").Limit(1).Find(&last).Error; err != nil {
		return false, err
	}
	return last.ID != 0 && last.Passed, nil
}

// PruneTests deletes test records older than maxAge, keeping each asset's
// latest test, which the API shows as its last result.
func (s *Store) PruneTests(ctx context.Context, maxAge time.Duration) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM webhook_tests t WHERE t.created_at < $1
		AND (t.webhook_id IS NULL OR t.id <> (SELECT max(id) FROM webhook_tests l WHERE l.webhook_id = t.webhook_id))`,
		s.Now().Add(-maxAge))
	if res.Error != nil {
		return 0, fmt.Errorf("models: prune tests: %w", res.Error)
	}
	return res.RowsAffected, nil
}
