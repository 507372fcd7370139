package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AlertThrottle is how long an alert of one state for one webhook silences
// the next of the same state.
const AlertThrottle = time.Hour

// Alert is an e-mail about a webhook's change of state.
type Alert struct {
	ID         int64
	PanelID    int64
	WebhookID  int64
	State      string
	Details    json.RawMessage `gorm:"type:jsonb"`
	CreatedAt  time.Time
	SentAt     *time.Time
	Recipients []string `gorm:"serializer:json;-"` // read separately, a text[] column
	Attempts   int
	LastError  string
	// QueuedAt is when the alert took one of its panel's places in the
	// mail queue (QueueDueAlerts); NextAttemptAt when it may be sent
	// (again).
	QueuedAt      *time.Time
	NextAttemptAt *time.Time
}

// AlertRecipient is an address that hears about a panel's webhooks (or
// one webhook's, when WebhookID is set).
type AlertRecipient struct {
	ID        int64
	PanelID   int64
	WebhookID *int64
	Email     string
	CreatedAt time.Time
	// ConfirmedAt is when the owner of the address agreed to get the
	// panel's alerts (RecipientConsent); until then the recipient gets
	// none. ConfirmSentAt is when the last link asking them was mailed,
	// ConfirmExpiresAt when the last link made stops working; the link's
	// token is kept as its hash only.
	ConfirmedAt      *time.Time
	ConfirmSentAt    *time.Time
	ConfirmExpiresAt *time.Time
	ConfirmTokenHash []byte
}

// QueueAlert writes an alert unless one of the same state for the same
// webhook was written within AlertThrottle. It returns the alert's id, or
// 0 when throttled.
func (s *Store) QueueAlert(ctx context.Context, panelID, webhookID int64, state string, details any) (int64, error) {
	raw, err := json.Marshal(details)
	if err != nil {
		return 0, fmt.Errorf("models: queue alert: %w", err)
	}
	now := s.Now()
	var id int64
	err = s.sql.QueryRowContext(ctx, `INSERT INTO alerts (panel_id, webhook_id, state, details, created_at, next_attempt_at)
		SELECT $1, $2, $3, $4::jsonb, $5, $5
		WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE webhook_id = $2 AND state = $3 AND created_at > $6)
		RETURNING id`, panelID, webhookID, state, string(raw), now, now.Add(-AlertThrottle)).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("models: queue alert: %w", err)
	}
	return id, nil
}

// AlertByID loads an alert, with whom it was sent to so far.
func (s *Store) AlertByID(ctx context.Context, id int64) (*Alert, error) {
	var a Alert
	if err := s.db.WithContext(ctx).Take(&a, id).Error; err != nil {
		return nil, fmt.Errorf("models: alert %d: %w", id, notFound(err))
	}
	if err := s.loadRecipients(ctx, []*Alert{&a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// MarkAlert records a sending attempt and gives up the alert's place in
// the mail queue: sent to these recipients (sendErr, if any, says whom it
// missed), or, with no recipients, failed with sendErr, to be tried again
// at retryAt, or never when retryAt is zero (given up: no next attempt).
// No recipients and no error is an alert sent to nobody.
func (s *Store) MarkAlert(ctx context.Context, id int64, recipients []string, sendErr error, retryAt time.Time) error {
	var err error
	if sendErr == nil || len(recipients) > 0 {
		missed := ""
		if sendErr != nil {
			missed = CleanText([]byte(sendErr.Error()))
		}
		_, err = s.sql.ExecContext(ctx, `UPDATE alerts SET sent_at = $2, recipients = $3, attempts = attempts + 1, last_error = $4,
			queued_at = NULL WHERE id = $1`, id, s.Now(), recipients, missed)
	} else {
		_, err = s.sql.ExecContext(ctx, `UPDATE alerts SET attempts = attempts + 1, last_error = $2, queued_at = NULL,
			next_attempt_at = $3 WHERE id = $1`, id, CleanText([]byte(sendErr.Error())), nullTime(retryAt))
	}
	if err != nil {
		return fmt.Errorf("models: mark alert %d: %w", id, err)
	}
	return nil
}

// MarkAlertPartly records a sending attempt that reached some recipients
// (sent, added to those it reached before) but missed others for a
// reason that may pass (missed): the alert stays unsent, to be tried
// again at retryAt for those it has not reached, or never when retryAt is
// zero (given up).
func (s *Store) MarkAlertPartly(ctx context.Context, id int64, sent []string, missed error, retryAt time.Time) error {
	if _, err := s.sql.ExecContext(ctx, `UPDATE alerts SET recipients = coalesce(recipients, '{}') || $2::text[],
			attempts = attempts + 1, last_error = $3, queued_at = NULL, next_attempt_at = $4 WHERE id = $1`,
		id, sent, CleanText([]byte(missed.Error())), nullTime(retryAt)); err != nil {
		return fmt.Errorf("models: mark alert %d partly sent: %w", id, err)
	}
	return nil
}

// UnqueueAlert gives up an alert's place in the mail queue without an
// attempt: it may be sent at at. A reason, when given, is recorded as why
// it was not sent.
func (s *Store) UnqueueAlert(ctx context.Context, id int64, at time.Time, reason string) error {
	if _, err := s.sql.ExecContext(ctx, `UPDATE alerts SET queued_at = NULL, next_attempt_at = $2,
		last_error = CASE WHEN $3 = '' THEN last_error ELSE $3 END
		WHERE id = $1 AND sent_at IS NULL`, id, at, reason); err != nil {
		return fmt.Errorf("models: unqueue alert %d: %w", id, err)
	}
	return nil
}

// holdsBack is the condition on an earlier alert of a webhook (table
// alias t) under which it holds back the later ones (EarlierUnsentAlert,
// QueueDueAlerts): unsent, still to be tried (not given up), and reaching
// nobody yet (one tried again for a few would keep "recovered" from
// everyone behind one full mailbox).
func holdsBack(t string) string {
	return t + `.sent_at IS NULL AND ` + t + `.next_attempt_at IS NOT NULL AND coalesce(cardinality(` + t + `.recipients), 0) = 0`
}

// EarlierUnsentAlert returns the id of an older alert of the same webhook
// that has not gone out yet, or 0. Alerts of one webhook are sent in the
// order they were written, so nobody reads "recovered" before "disabled".
// One stuck for more than an hour, given up, or that reached some of its
// recipients already no longer holds the others back (holdsBack).
func (s *Store) EarlierUnsentAlert(ctx context.Context, a *Alert) (int64, error) {
	var id int64
	err := s.sql.QueryRowContext(ctx, `SELECT id FROM alerts
		WHERE webhook_id = $1 AND id < $2 AND `+holdsBack("alerts")+` AND created_at > $3
		ORDER BY id LIMIT 1`,
		a.WebhookID, a.ID, s.Now().Add(-time.Hour)).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("models: earlier alert of %d: %w", a.ID, err)
	}
	return id, nil
}

// alertPlacesLock is the second key of the advisory lock on a panel's
// places in the mail queue (the first is the panel's id; event parts use
// 1,000,000 and up).
const alertPlacesLock = -1

// QueueDueAlerts takes places in the mail queue for a panel's alerts that
// are due, up to places held in all, and returns their ids, for the caller
// to enqueue. The soonest due go first, and an alert only after its
// webhook's earlier ones (one unsent for over an hour no longer holds the
// later back, as in EarlierUnsentAlert). A lock on the panel's places makes
// the count and the taking one step, as alerts of one panel are written by
// many workers at once.
func (s *Store) QueueDueAlerts(ctx context.Context, panelID int64, places int) ([]int64, error) {
	now := s.Now()
	var ids []int64
	err := s.InTx(ctx, func(q Querier) error {
		// An advisory lock: a row lock on the panel would wait for, and
		// hold up, the panel's ingest (the key share its foreign keys take).
		if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1::int, $2::int)`, int32(panelID), alertPlacesLock); err != nil {
			return err
		}
		var held int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM alerts
			WHERE panel_id = $1 AND sent_at IS NULL AND queued_at IS NOT NULL`, panelID).Scan(&held); err != nil {
			return err
		}
		if held >= places {
			return nil
		}
		// The free places as a plain LIMIT, and the picked rows joined in:
		// with the count inside the LIMIT the planner could not read it,
		// guessed large, and hashed the whole table, every panel's
		// history, to join (found by review: 603,000 rows read for one).
		rows, err := q.QueryContext(ctx, `UPDATE alerts SET queued_at = $2 FROM (
			SELECT a.id FROM alerts a
			WHERE a.panel_id = $1 AND a.sent_at IS NULL AND a.queued_at IS NULL AND a.next_attempt_at <= $2
			  AND NOT EXISTS (SELECT 1 FROM alerts e WHERE e.webhook_id = a.webhook_id AND e.id < a.id
			                  AND `+holdsBack("e")+` AND e.created_at > $4)
			ORDER BY a.next_attempt_at, a.id
			LIMIT $3) picked
			WHERE alerts.id = picked.id
			RETURNING alerts.id`, panelID, now, places-held, now.Add(-time.Hour))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("models: queue alerts of panel %d: %w", panelID, err)
	}
	return ids, nil
}

// PanelsWithDueAlerts lists panels, after the panel id after, with alerts
// due and not queued, at most limit: the sweep goes round them from where
// its last pass stopped, so however many panels have alerts that cannot
// go out, every panel comes round. It steps from one panel with unqueued
// alerts still to be tried to the next through an index (alerts_due_tried,
// which leaves given-up alerts out), so a pass costs the panels it takes,
// not the alerts waiting nor the panels whose alerts were given up.
func (s *Store) PanelsWithDueAlerts(ctx context.Context, after int64, limit int) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Raw(`WITH RECURSIVE panels(id) AS (
			(SELECT panel_id FROM alerts WHERE sent_at IS NULL AND queued_at IS NULL AND next_attempt_at IS NOT NULL AND panel_id > ?
			 ORDER BY panel_id LIMIT 1)
			UNION ALL
			SELECT (SELECT a.panel_id FROM alerts a WHERE a.sent_at IS NULL AND a.queued_at IS NULL AND a.next_attempt_at IS NOT NULL
			        AND a.panel_id > panels.id ORDER BY a.panel_id LIMIT 1)
			FROM panels WHERE panels.id IS NOT NULL)
		SELECT id FROM panels WHERE id IS NOT NULL AND EXISTS (SELECT 1 FROM alerts a
			WHERE a.panel_id = panels.id AND a.sent_at IS NULL AND a.queued_at IS NULL AND a.next_attempt_at <= ?)
		LIMIT ?`, after, s.Now(), limit).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("models: panels with due alerts: %w", err)
	}
	return ids, nil
}

// UnqueueLostAlerts gives up the places of alerts queued before before and
// still unsent: their task was lost (Redis restarted empty, or the worker
// died and the task ran out of retries). It returns how many.
func (s *Store) UnqueueLostAlerts(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.sql.ExecContext(ctx, `UPDATE alerts SET queued_at = NULL
		WHERE sent_at IS NULL AND queued_at IS NOT NULL AND queued_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("models: unqueue lost alerts: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ListAlerts lists a panel's alerts, newest first, of one webhook when
// webhookID is not 0.
func (s *Store) ListAlerts(ctx context.Context, panelID, webhookID int64, limit int) ([]Alert, error) {
	q := s.db.WithContext(ctx).Where("panel_id = ?", panelID)
	if webhookID != 0 {
		q = q.Where("webhook_id = ?", webhookID)
	}
	var out []Alert
	if err := q.Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list alerts: %w", err)
	}
	ptrs := make([]*Alert, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := s.loadRecipients(ctx, ptrs); err != nil {
		return nil, err
	}
	return out, nil
}

// loadRecipients fills in whom each alert reached so far (Alert.Recipients
// is a text[] column the ORM does not read). Addresses hold no line breaks
// (Mailable), so PostgreSQL joins them with one.
func (s *Store) loadRecipients(ctx context.Context, alerts []*Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	byID := make(map[int64]*Alert, len(alerts))
	ids := make([]int64, len(alerts))
	for i, a := range alerts {
		byID[a.ID], ids[i] = a, a.ID
	}
	rows, err := s.sql.QueryContext(ctx, `SELECT id, coalesce(array_to_string(recipients, chr(10)), '') FROM alerts
		WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("models: alert recipients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var joined string
		if err := rows.Scan(&id, &joined); err != nil {
			return fmt.Errorf("models: alert recipients: %w", err)
		}
		if joined != "" {
			byID[id].Recipients = strings.Split(joined, "\n")
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("models: alert recipients: %w", err)
	}
	return nil
}

// RecipientsFor lists who hears about a webhook: the panel's recipients
// and the webhook's own, each address once, of those whose owners agreed
// to (AlertRecipient.ConfirmedAt).
func (s *Store) RecipientsFor(ctx context.Context, panelID, webhookID int64) ([]string, error) {
	var out []string
	// An address outside ASCII (stored before Mailable refused it) comes
	// as it is, not lowered, which could fold it into another address
	// (victim@İbm.com into victim@ibm.com): SplitMailable leaves it out.
	err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT CASE WHEN octet_length(email) = char_length(email) THEN lower(email) ELSE email END
		FROM alert_recipients
		WHERE panel_id = $1 AND (webhook_id IS NULL OR webhook_id = $2) AND confirmed_at IS NOT NULL ORDER BY 1`,
		panelID, webhookID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: alert recipients: %w", err)
	}
	return out, nil
}

// Mailable reports whether the mailer can send to address as it is:
// net/mail, which the mailer's library parses recipients with, reads it
// as a bare address and unchanged. LooksLikeEmail lets through addresses
// it refuses (ops@example.com. with its final dot, a..b@example.com),
// and one such recipient failed every alert of its panel for good. It
// must be ASCII, too: addresses are matched case-blind (lower), and
// outside ASCII that folds distinct addresses into one (victim@İbm.com
// into victim@ibm.com), so that a link mailed to one would confirm the
// other; an internationalised domain is written in its xn-- form.
func Mailable(address string) bool {
	if !isASCII(address) {
		return false
	}
	a, err := mail.ParseAddress(address)
	return err == nil && a.Name == "" && a.Address == address
}

// EmailKey is how alert recipients' addresses are matched: case-blind
// within ASCII; an address outside it (stored before Mailable refused it)
// is kept as it is, so that it never folds into another.
func EmailKey(address string) string {
	if !isASCII(address) {
		return address
	}
	return strings.ToLower(address)
}

// SplitMailable splits addresses into those the mailer can send to and
// those it cannot (Mailable): an alert, and the test alert, go to the
// first and leave the others out.
func SplitMailable(addresses []string) (mailable, unmailable []string) {
	for _, a := range addresses {
		if Mailable(a) {
			mailable = append(mailable, a)
		} else {
			unmailable = append(unmailable, a)
		}
	}
	return mailable, unmailable
}

// maxEmailBytes is the longest address an alert goes to (RFC 5321's 320).
const maxEmailBytes = 320

// AddRecipient adds an alert recipient to a panel, or to one of its
// webhooks: the address (trimmed) must look like one, else a
// ValidationError on email; the webhook must be the panel's, else
// ErrNotFound. It gets no alert until its owner confirms
// (NewRecipientConfirmation), unless the address confirmed the panel's
// alerts already, for the panel or another of its webhooks. An address
// whose owner said no to the panel's alerts (or stopped them) less than
// RecipientDeclinedFor ago is not added (ErrDeclined, with a
// ConflictError on email).
func (s *Store) AddRecipient(ctx context.Context, panelID int64, webhookID *int64, email string) (*AlertRecipient, error) {
	email = strings.TrimSpace(email)
	if !LooksLikeEmail(email) || len(email) > maxEmailBytes {
		return nil, invalid("email", "is not an e-mail address")
	}
	if !Mailable(email) {
		return nil, invalid("email", "is not an address mail can be sent to (a bare address, in ASCII, as ops@example.com; "+
			"an internationalised domain in its xn-- form)")
	}
	if webhookID != nil {
		// Only the panel's own webhook: another panel's is "not found".
		if _, err := s.Webhook(ctx, panelID, *webhookID); err != nil {
			return nil, fmt.Errorf("models: add recipient: %w", err)
		}
	}
	r := AlertRecipient{PanelID: panelID, WebhookID: webhookID, Email: email, CreatedAt: s.Now()}
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		// The panel's row is locked first, so concurrent adds count one
		// after the other (the count runs once the lock is held).
		if err := tx.Exec(`SELECT FROM panels WHERE id = ? FOR NO KEY UPDATE`, panelID).Error; err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&AlertRecipient{}).Where("panel_id = ?", panelID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxAlertRecipients {
			return &ConflictError{Field: "email", Message: fmt.Sprintf(
				"a panel has at most %d alert recipients: remove one first", MaxAlertRecipients)}
		}
		var declined sql.NullTime
		if err := tx.Raw(`SELECT declined_at FROM alert_consent_asks WHERE panel_id = ? AND email = lower(?)`,
			panelID, email).Row().Scan(&declined); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := declinedError(email, declined, r.CreatedAt); err != nil {
			return err
		}
		var agreed bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM alert_recipients WHERE panel_id = ? AND lower(email) = lower(?)
			AND confirmed_at IS NOT NULL)`, panelID, email).Scan(&agreed).Error; err != nil {
			return err
		}
		if agreed {
			r.ConfirmedAt = &r.CreatedAt
		}
		return tx.Create(&r).Error
	})
	var conflict *ConflictError
	switch {
	case errors.Is(err, ErrDeclined):
		return nil, err
	case errors.As(err, &conflict):
		return nil, conflict
	case uniqueViolation(err, "alert_recipients_unique"):
		return nil, &ConflictError{Field: "email", Message: "this address already gets these alerts"}
	case err != nil:
		return nil, fmt.Errorf("models: add recipient: %w", err)
	}
	return &r, nil
}

// MaxAlertRecipients bounds a panel's alert recipients, all its webhooks
// together: an alert goes out as a copy to each of its recipients
// (panel-wide and the webhook's), through the operator's mail server,
// whose reputation every panel's alerts share, and within its task's
// minute.
const MaxAlertRecipients = 50

// ListRecipients lists a panel's alert recipients.
func (s *Store) ListRecipients(ctx context.Context, panelID int64) ([]AlertRecipient, error) {
	var out []AlertRecipient
	if err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Order("lower(email), id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list recipients: %w", err)
	}
	return out, nil
}

// RemoveRecipient removes one of a panel's alert recipients.
func (s *Store) RemoveRecipient(ctx context.Context, panelID, id int64) error {
	res := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Delete(&AlertRecipient{}, id)
	if res.Error != nil {
		return fmt.Errorf("models: remove recipient %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("models: remove recipient %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetHealth writes a webhook's health when no worker holds its send lease
// (a worker holding it writes health with its own statements).
func (s *Store) SetHealth(ctx context.Context, webhookID int64, health json.RawMessage) (bool, error) {
	res, err := s.sql.ExecContext(ctx, `UPDATE webhooks SET health = $2::jsonb
		WHERE id = $1 AND (send_lease_until IS NULL OR send_lease_until <= $3)`, webhookID, string(health), s.Now())
	if err != nil {
		return false, fmt.Errorf("models: set health of webhook %d: %w", webhookID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// WebhooksInState lists the webhooks whose health is in the given state.
func (s *Store) WebhooksInState(ctx context.Context, state string) ([]Webhook, error) {
	var out []Webhook
	if err := s.db.WithContext(ctx).Where("health->>'state' = ?", state).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: webhooks in state %s: %w", state, err)
	}
	return out, nil
}

// ProbeDue lists disabled webhooks whose automatic probe is due, and marks
// them probed, so a probe runs once per period even if it then fails.
func (s *Store) ProbeDue(ctx context.Context) ([]Webhook, error) {
	now := s.Now()
	var out []Webhook
	err := s.db.WithContext(ctx).Raw(`UPDATE webhooks SET last_probe_at = $1
		WHERE status = 'disabled' AND auto_probe_minutes > 0
		  AND (last_probe_at IS NULL OR last_probe_at <= $2::timestamptz - make_interval(mins => auto_probe_minutes))
		RETURNING *`, now, now).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: probes due: %w", err)
	}
	return out, nil
}

// HeldCounts counts held deliveries per webhook.
func (s *Store) HeldCounts(ctx context.Context) (map[int64]int64, error) {
	var rows []struct {
		WebhookID int64
		N         int64
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT webhook_id, count(*) AS n FROM deliveries WHERE status = 'held' GROUP BY webhook_id`).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("models: held counts: %w", err)
	}
	out := map[int64]int64{}
	for _, r := range rows {
		out[r.WebhookID] = r.N
	}
	return out, nil
}

// RecentAttempts returns a webhook's last n attempts, newest first.
func (s *Store) RecentAttempts(ctx context.Context, webhookID int64, n int) ([]Attempt, error) {
	var out []Attempt
	if err := s.db.WithContext(ctx).Where("webhook_id = ?", webhookID).Order("id DESC").Limit(n).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: recent attempts: %w", err)
	}
	return out, nil
}

// AlertEntry is an alert as the history shows it: what, when, about which
// webhook, to whom, and whether it went out.
type AlertEntry struct {
	ID           int64
	WebhookID    int64
	WebhookLabel string
	State        string
	CreatedAt    time.Time
	SentAt       *time.Time
	// Recipients are who it was sent to, comma-separated; "" when unsent
	// or when it went to nobody.
	Recipients string
	Attempts   int
	LastError  string
	// NextAttemptAt is when an unsent alert may be tried (again).
	NextAttemptAt *time.Time
}

// AlertHistory lists a panel's latest alerts, newest first, of one
// webhook when webhookID is not 0.
func (s *Store) AlertHistory(ctx context.Context, panelID, webhookID int64, limit int) ([]AlertEntry, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT a.id, a.webhook_id, w.label, a.state, a.created_at, a.sent_at,
			array_to_string(a.recipients, ', '), a.attempts, a.last_error, a.next_attempt_at
		FROM alerts a JOIN webhooks w ON w.id = a.webhook_id
		WHERE a.panel_id = $1 AND ($2::bigint = 0 OR a.webhook_id = $2::bigint)
		ORDER BY a.id DESC LIMIT $3`, panelID, webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("models: alert history: %w", err)
	}
	defer rows.Close()
	var out []AlertEntry
	for rows.Next() {
		var e AlertEntry
		if err := rows.Scan(&e.ID, &e.WebhookID, &e.WebhookLabel, &e.State, &e.CreatedAt, &e.SentAt,
			&e.Recipients, &e.Attempts, &e.LastError, &e.NextAttemptAt); err != nil {
			return nil, fmt.Errorf("models: alert history: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("models: alert history: %w", err)
	}
	return out, nil
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
