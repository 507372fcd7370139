package models

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// An alert recipient gets alerts only once the owner of the address said
// yes through a link mailed to it (double opt-in). Without it, any panel
// could have Herald's mail server, whose reputation every panel's alerts
// share, mail whatever addresses it liked, and a panel's alerts reach
// people who never asked for them.
const (
	// RecipientConfirmTTL is how long a confirmation link works.
	RecipientConfirmTTL = 7 * 24 * time.Hour
	// RecipientConfirmEvery is the shortest time between two links
	// mailed to one address of a panel.
	RecipientConfirmEvery = 10 * time.Minute
	// RecipientDeclinedFor is how long a panel may not ask an address
	// whose owner said no (or stopped its alerts) again.
	RecipientDeclinedFor = 30 * 24 * time.Hour
	// recipientTokenPrefix tells a leaked confirmation link's token apart
	// from other tokens.
	recipientTokenPrefix = "hrcp_"
)

// TooSoonError is a request refused because the same was done a short
// while ago: Retry is how long to wait. The API answers it with 429.
type TooSoonError struct {
	Message string
	Retry   time.Duration
}

func (e *TooSoonError) Error() string { return e.Message }

// Minutes says how many minutes (rounded up) d is, for a person: "1
// minute", "7 minutes".
func Minutes(d time.Duration) string {
	n := int((d + time.Minute - 1) / time.Minute)
	if n == 1 {
		return "1 minute"
	}
	return strconv.Itoa(n) + " minutes"
}

// ErrDeclined is why a panel may not ask an address: its owner said no
// (or stopped the panel's alerts) less than RecipientDeclinedFor ago. It
// comes with a ConflictError that says so.
var ErrDeclined = errors.New("the address's owner declined")

// ErrLinkExpired is a confirmation link used after RecipientConfirmTTL.
var ErrLinkExpired = errors.New("this link has expired")

// RecipientConsent is what a confirmation link is about: an address, and
// the panel whose alerts it would get.
type RecipientConsent struct {
	PanelID   int64
	PanelName string
	// PanelTimeZone is the zone the panel's pages and e-mails show times in.
	PanelTimeZone string
	Email         string
	// Confirmed: the address already gets the panel's alerts.
	Confirmed bool
	ExpiresAt time.Time
}

// RecipientLink is a confirmation link NewRecipientConfirmation made,
// to be mailed and then reported (RecipientLinkSent, RecipientLinkNotSent).
type RecipientLink struct {
	// Token is the link's token: the only time it exists in clear.
	Token     string
	Recipient *AlertRecipient
	at        time.Time
	before    sql.NullTime // the panel's previous link to the address
	// The recipient's link before this one, back in place if this one
	// is not sent.
	beforeHash    []byte
	beforeExpires *time.Time
}

// NewRecipientConfirmation makes the link that asks the owner of an
// unconfirmed recipient's address to confirm; it replaces the recipient's
// earlier link. Refused, with nothing changed: a recipient not found in
// the panel (ErrNotFound), one confirmed already, and one whose owner said
// no to the panel (or stopped its alerts) less than RecipientDeclinedFor
// ago (ConflictError); an address the panel had a link mailed to less than
// RecipientConfirmEvery ago, or being mailed one now (TooSoonError); and
// whatever allow, which takes from other limits once these passed,
// returns. The panel's link to the address counts from now, so that a
// concurrent request is too soon, until RecipientLinkNotSent gives it back.
func (s *Store) NewRecipientConfirmation(ctx context.Context, panelID, recipientID int64, allow func(*AlertRecipient) error) (*RecipientLink, error) {
	l := RecipientLink{Token: newTokenValue(recipientTokenPrefix), Recipient: &AlertRecipient{}, at: s.Now()}
	r := l.Recipient
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Raw(`SELECT * FROM alert_recipients WHERE id = ? AND panel_id = ? FOR UPDATE`, recipientID, panelID).Scan(r)
		switch {
		case res.Error != nil:
			return res.Error
		case res.RowsAffected == 0:
			return ErrNotFound
		case r.ConfirmedAt != nil:
			return &ConflictError{Message: r.Email + " has confirmed already: it gets the panel's alerts"}
		case !Mailable(r.Email):
			// Stored before Mailable refused it: its owner cannot be asked
			// (and outside ASCII its yes would fold into another address).
			return &ConflictError{Message: r.Email + " is not an address mail can be sent to: remove it and add it again correctly"}
		}
		l.beforeHash, l.beforeExpires = r.ConfirmTokenHash, r.ConfirmExpiresAt
		// The panel's asks of the address, one row locked, so concurrent
		// requests take their turn here.
		if err := tx.Exec(`INSERT INTO alert_consent_asks (panel_id, email) VALUES (?, lower(?)) ON CONFLICT DO NOTHING`,
			panelID, r.Email).Error; err != nil {
			return err
		}
		var declined sql.NullTime
		if err := tx.Raw(`SELECT last_sent_at, declined_at FROM alert_consent_asks WHERE panel_id = ? AND email = lower(?) FOR UPDATE`,
			panelID, r.Email).Row().Scan(&l.before, &declined); err != nil {
			return err
		}
		if err := declinedError(r.Email, declined, l.at); err != nil {
			return err
		}
		if l.before.Valid && l.at.Sub(l.before.Time) < RecipientConfirmEvery {
			wait := RecipientConfirmEvery - l.at.Sub(l.before.Time)
			return &TooSoonError{Retry: wait, Message: fmt.Sprintf("no link sent: one went to %s less than %d minutes ago; try again in %s",
				r.Email, int(RecipientConfirmEvery.Minutes()), Minutes(wait))}
		}
		if err := allow(r); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE alert_consent_asks SET last_sent_at = ? WHERE panel_id = ? AND email = lower(?)`,
			l.at, panelID, r.Email).Error; err != nil {
			return err
		}
		expires := l.at.Add(RecipientConfirmTTL)
		r.ConfirmTokenHash, r.ConfirmExpiresAt = HashToken(l.Token), &expires
		return tx.Exec(`UPDATE alert_recipients SET confirm_token_hash = ?, confirm_expires_at = ? WHERE id = ?`,
			r.ConfirmTokenHash, expires, r.ID).Error
	})
	var conflict *ConflictError
	var soon *TooSoonError
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("models: recipient %d: %w", recipientID, ErrNotFound)
	case errors.Is(err, ErrDeclined):
		return nil, err
	case errors.As(err, &conflict):
		return nil, conflict
	case errors.As(err, &soon):
		return nil, soon
	case err != nil:
		return nil, fmt.Errorf("models: recipient confirmation: %w", err)
	}
	return &l, nil
}

// RecipientLinkSent records that the link was mailed, for the recipient's
// "link sent at".
func (s *Store) RecipientLinkSent(ctx context.Context, l *RecipientLink) error {
	if err := s.db.WithContext(ctx).Exec(`UPDATE alert_recipients SET confirm_sent_at = ? WHERE id = ?`,
		l.at, l.Recipient.ID).Error; err != nil {
		return fmt.Errorf("models: recipient confirmation sent: %w", err)
	}
	return nil
}

// RecipientLinkNotSent undoes a link the mail server did not take: the
// recipient's link mailed before works again, and the panel gets back its
// turn to mail the address, so it may be sent again at once. Each is put
// back only if nothing came after.
func (s *Store) RecipientLinkNotSent(ctx context.Context, l *RecipientLink) error {
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE alert_recipients SET confirm_token_hash = ?, confirm_expires_at = ? WHERE id = ? AND confirm_token_hash = ?`,
			l.beforeHash, l.beforeExpires, l.Recipient.ID, l.Recipient.ConfirmTokenHash).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE alert_consent_asks SET last_sent_at = ? WHERE panel_id = ? AND email = lower(?) AND last_sent_at = ?`,
			l.before, l.Recipient.PanelID, l.Recipient.Email, l.at).Error
	})
	if err != nil {
		return fmt.Errorf("models: recipient confirmation not sent: %w", err)
	}
	return nil
}

// declinedError is ErrDeclined, with a ConflictError that says when,
// while a no given at declined still holds at now; else nil.
func declinedError(email string, declined sql.NullTime, now time.Time) error {
	if !declined.Valid || now.Sub(declined.Time) >= RecipientDeclinedFor {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrDeclined, &ConflictError{Field: "email", Message: fmt.Sprintf(
		"the owner of %s said no to this panel's alert e-mail on %s, so Herald may not ask them again before %s",
		email, ZonedTime(declined.Time, time.UTC), ZonedTime(declined.Time.Add(RecipientDeclinedFor), time.UTC))})
}

// declined records the owner's no (or stop) to a panel's alert e-mail:
// the panel may not ask the address again for RecipientDeclinedFor.
func (s *Store) declined(tx *gorm.DB, panelID int64, email string) error {
	return tx.Exec(`INSERT INTO alert_consent_asks (panel_id, email, declined_at) VALUES (?, lower(?), ?)
		ON CONFLICT (panel_id, email) DO UPDATE SET declined_at = excluded.declined_at`, panelID, email, s.Now()).Error
}

// consentByToken reads what a link is about; lock takes the recipient's
// row FOR UPDATE. An unknown token (or one of a recipient removed) is
// ErrNotFound.
func consentByToken(tx *gorm.DB, token string, lock bool) (*RecipientConsent, error) {
	q := `SELECT r.panel_id, p.name AS panel_name, p.time_zone AS panel_time_zone, r.email, r.confirmed_at IS NOT NULL AS confirmed, r.confirm_expires_at AS expires_at
		FROM alert_recipients r JOIN panels p ON p.id = r.panel_id WHERE r.confirm_token_hash = ?`
	if lock {
		q += ` FOR UPDATE OF r`
	}
	var c RecipientConsent
	res := tx.Raw(q, HashToken(token)).Scan(&c)
	if res.Error != nil {
		return nil, fmt.Errorf("models: recipient link: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("models: recipient link: %w", ErrNotFound)
	}
	return &c, nil
}

// Expires says when the link stops working, as its e-mail says it: in
// the panel's time zone, named.
func (c *RecipientConsent) Expires() string {
	p := Panel{TimeZone: c.PanelTimeZone}
	return ZonedTime(c.ExpiresAt, p.Location())
}

// RecipientConsentByToken says what a confirmation link is about, for its
// page. An unknown or used token is ErrNotFound; an expired one is
// returned with ErrLinkExpired.
func (s *Store) RecipientConsentByToken(ctx context.Context, token string) (*RecipientConsent, error) {
	c, err := consentByToken(s.db.WithContext(ctx), token, false)
	if err != nil {
		return nil, err
	}
	if !c.Confirmed && !s.Now().Before(c.ExpiresAt) {
		return c, ErrLinkExpired
	}
	return c, nil
}

// ConfirmRecipient records the owner's yes, given through a link: the
// address gets the alerts of its panel, of every webhook it was added
// for, from now on. The links stop working. An unknown or used token is
// ErrNotFound, an expired one ErrLinkExpired (nothing changes).
func (s *Store) ConfirmRecipient(ctx context.Context, token string) (*RecipientConsent, error) {
	var c *RecipientConsent
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if c, err = consentByToken(tx, token, true); err != nil {
			return err
		}
		if !Mailable(c.Email) {
			// A link mailed before Mailable refused the address: outside
			// ASCII, lower() would fold its yes into another address.
			return ErrNotFound
		}
		now := s.Now()
		if !c.Confirmed && !now.Before(c.ExpiresAt) {
			return ErrLinkExpired
		}
		return tx.Exec(`UPDATE alert_recipients SET confirmed_at = coalesce(confirmed_at, ?), confirm_token_hash = NULL
			WHERE panel_id = ? AND lower(email) = lower(?)`, now, c.PanelID, c.Email).Error
	})
	if err != nil {
		return nil, err
	}
	c.Confirmed = true
	return c, nil
}

// DeclineRecipient records the owner's no, given through a link: the
// panel's unconfirmed recipients of the address are removed (the panel
// sees them gone), and the panel may not ask it again for
// RecipientDeclinedFor. A link works for this even once expired; an unknown
// or used token is ErrNotFound.
func (s *Store) DeclineRecipient(ctx context.Context, token string) (*RecipientConsent, error) {
	var c *RecipientConsent
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		if c, err = consentByToken(tx, token, true); err != nil {
			return err
		}
		if c.Confirmed {
			return ErrNotFound // used: the link confirmed already
		}
		// The recipient rows first, then the asks row, as every other
		// writer takes them: the other order deadlocks with a resend.
		if err := tx.Exec(`DELETE FROM alert_recipients WHERE panel_id = ? AND lower(email) = lower(?) AND confirmed_at IS NULL`,
			c.PanelID, c.Email).Error; err != nil {
			return err
		}
		return s.declined(tx, c.PanelID, c.Email)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Recipient returns one of a panel's alert recipients; another panel's is
// ErrNotFound.
func (s *Store) Recipient(ctx context.Context, panelID, id int64) (*AlertRecipient, error) {
	var r AlertRecipient
	res := s.db.WithContext(ctx).Where("panel_id = ? AND id = ?", panelID, id).Limit(1).Find(&r)
	if res.Error != nil {
		return nil, fmt.Errorf("models: recipient %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("models: recipient %d: %w", id, ErrNotFound)
	}
	return &r, nil
}

// optOutPurpose binds opt-out tokens (OptOutToken) to their use.
const optOutPurpose = "alert opt-out"

type optOut struct {
	PanelID int64  `json:"p"`
	Email   string `json:"e"`
}

// OptOutToken is the token of the link in each alert e-mail that stops a
// panel's alerts to an address: the panel and the address, sealed, so
// that it needs no row of its own, names the address to nobody who reads
// the link, and cannot be made for another panel or address.
func (s *Store) OptOutToken(panelID int64, email string) string {
	raw, _ := json.Marshal(optOut{PanelID: panelID, Email: EmailKey(email)})
	return base64.RawURLEncoding.EncodeToString(s.Cipher.Seal(optOutPurpose, raw))
}

// optOutOf opens an opt-out token; a token that does not open is ErrNotFound.
func (s *Store) optOutOf(token string) (*optOut, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	var o optOut
	if err == nil {
		var raw []byte
		if raw, err = s.Cipher.Open(optOutPurpose, sealed); err == nil && len(raw) > 0 {
			err = json.Unmarshal(raw, &o)
		}
	}
	if err != nil || o.PanelID == 0 || o.Email == "" {
		return nil, fmt.Errorf("models: opt-out link: %w", ErrNotFound)
	}
	return &o, nil
}

// OptOutByToken says what an opt-out link is about, for its page: the
// panel and the address, while the address is among the panel's alert
// recipients; else ErrNotFound.
func (s *Store) OptOutByToken(ctx context.Context, token string) (*RecipientConsent, error) {
	o, err := s.optOutOf(token)
	if err != nil {
		return nil, err
	}
	var c RecipientConsent
	res := s.db.WithContext(ctx).Raw(`SELECT r.panel_id, p.name AS panel_name, r.email, r.confirmed_at IS NOT NULL AS confirmed
		FROM alert_recipients r JOIN panels p ON p.id = r.panel_id WHERE r.panel_id = ? AND lower(r.email) = ?
		ORDER BY r.confirmed_at IS NULL, r.id LIMIT 1`, o.PanelID, o.Email).Scan(&c)
	if res.Error != nil {
		return nil, fmt.Errorf("models: opt-out link: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("models: opt-out link: %w", ErrNotFound)
	}
	return &c, nil
}

// OptOut removes the address of an opt-out link from its panel's alert
// recipients, for every webhook, agreed or not: it gets none of the
// panel's alerts any more (the panel sees it gone, and may not ask again
// for RecipientDeclinedFor). ErrNotFound when there was nothing to remove.
func (s *Store) OptOut(ctx context.Context, token string) (*RecipientConsent, error) {
	c, err := s.OptOutByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	err = s.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM alert_recipients WHERE panel_id = ? AND lower(email) = lower(?)`, c.PanelID, c.Email)
		switch {
		case res.Error != nil:
			return res.Error
		case res.RowsAffected == 0:
			return ErrNotFound
		}
		return s.declined(tx, c.PanelID, c.Email)
	})
	if err != nil {
		return nil, fmt.Errorf("models: opt out: %w", err)
	}
	return c, nil
}
