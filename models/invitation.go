package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Invitation asks the person with an e-mail address to join a panel. It is
// accepted through a one-time link whose token only its hash is kept of;
// until then nobody is added to anything.
type Invitation struct {
	ID         int64
	TokenHash  []byte
	PanelID    int64
	Email      string
	InvitedBy  *int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AcceptedBy *int64
	RevokedAt  *time.Time
	// Mailed: the link went by e-mail to the invited address only. Only
	// then may it take a password or create an account (see migration 00011).
	Mailed bool
}

// InvitationInfo is an invitation with the names people read.
type InvitationInfo struct {
	Invitation   `gorm:"embedded"`
	PanelName    string
	InviterEmail string // "" when the inviter's account is gone
	Expired      bool
}

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// invitationTokenPrefix tells a leaked invitation link's token apart from
// other tokens.
const invitationTokenPrefix = "hinv_"

// ErrLinkShown is taking a password, or creating an account, through a link
// that was shown to the inviter rather than mailed to the invited address:
// its holder may not be the address's owner.
var ErrLinkShown = errors.New("this invitation link was not e-mailed: sign in with the invited address's account to accept it")

// ErrNotInvitee is accepting an invitation as a user whose address is not
// the one invited: an invitation is bound to its address.
var ErrNotInvitee = errors.New("this invitation is for another e-mail address")

// alreadyMember refuses inviting someone who is in the panel already. It
// tells nothing the panel's member list does not show.
var alreadyMember = &ConflictError{Field: "email", Message: "is already a member of this panel"}

// lastMember refuses leaving a panel nobody else is in: it could then only
// be reached again by whoever runs Herald, with the command line.
var lastMember = &ConflictError{Message: "you are the only member of this panel: invite someone to take it over before you leave"}

// CreateInvitation invites an address to a panel for InvitationTTL and
// returns the token for the link: the only time it exists in clear.
// Inviting an address with a pending invitation replaces it (its old link
// stops working). Whether the address has an account plays no part.
func (s *Store) CreateInvitation(ctx context.Context, panelID, invitedBy int64, email string) (string, *Invitation, error) {
	email, err := ValidateUserEmail(email)
	if err != nil {
		return "", nil, err
	}
	var member bool
	err = s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM users u JOIN user_panels m ON m.user_id = u.id
		WHERE u.email = $1 AND m.panel_id = $2)`, email, panelID).Scan(&member).Error
	if err != nil {
		return "", nil, fmt.Errorf("models: invite %q: %w", email, err)
	}
	if member {
		return "", nil, alreadyMember
	}
	token := newTokenValue(invitationTokenPrefix)
	now := s.Now()
	var inv Invitation
	// panel_id comes first: gorm would spread a []byte right after "(" into
	// several values.
	err = s.db.WithContext(ctx).Raw(`INSERT INTO invitations (panel_id, token_hash, email, invited_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (panel_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL
		DO UPDATE SET token_hash = EXCLUDED.token_hash, invited_by = EXCLUDED.invited_by,
			created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
		RETURNING *`, panelID, HashToken(token), email, invitedBy, now, now.Add(InvitationTTL)).Scan(&inv).Error
	if err != nil {
		return "", nil, fmt.Errorf("models: invite %q: %w", email, err)
	}
	return token, &inv, nil
}

// invitationInfoSelect reads invitations with their panel's name and their
// inviter's address; the caller adds the conditions.
const invitationInfoSelect = `SELECT i.*, p.name AS panel_name, COALESCE(u.email, '') AS inviter_email, i.expires_at <= $1 AS expired
	FROM invitations i JOIN panels p ON p.id = i.panel_id LEFT JOIN users u ON u.id = i.invited_by `

// InvitationByToken returns the pending invitation of a link. An unknown,
// expired, revoked or used token is ErrNotFound, all alike.
func (s *Store) InvitationByToken(ctx context.Context, token string) (*InvitationInfo, error) {
	now := s.Now()
	var inv InvitationInfo
	res := s.db.WithContext(ctx).Raw(invitationInfoSelect+`WHERE i.token_hash = $2
		AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $3`, now, HashToken(token), now).Scan(&inv)
	if res.Error != nil {
		return nil, fmt.Errorf("models: invitation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return &inv, nil
}

// PendingInvitations lists a panel's invitations nobody has accepted or
// revoked, newest first; those past their time are marked Expired.
func (s *Store) PendingInvitations(ctx context.Context, panelID int64) ([]InvitationInfo, error) {
	var out []InvitationInfo
	err := s.db.WithContext(ctx).Raw(invitationInfoSelect+`WHERE i.panel_id = $2
		AND i.accepted_at IS NULL AND i.revoked_at IS NULL ORDER BY i.created_at DESC, i.id DESC`, s.Now(), panelID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: invitations of panel %d: %w", panelID, err)
	}
	return out, nil
}

// RevokeInvitation stops a pending invitation of a panel; its link no
// longer works. ErrNotFound when the panel has no such pending invitation.
func (s *Store) RevokeInvitation(ctx context.Context, panelID, id int64) (*Invitation, error) {
	var inv Invitation
	res := s.db.WithContext(ctx).Raw(`UPDATE invitations SET revoked_at = $1
		WHERE id = $2 AND panel_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING *`, s.Now(), id, panelID).Scan(&inv)
	if res.Error != nil {
		return nil, fmt.Errorf("models: revoke invitation %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("models: revoke invitation %d: %w", id, ErrNotFound)
	}
	return &inv, nil
}

// lockInvitation locks the pending invitation of a token for the rest of
// the transaction: a second acceptance of the same link waits, then finds
// it used.
func (s *Store) lockInvitation(tx *gorm.DB, token string) (*Invitation, error) {
	var inv Invitation
	res := tx.Raw(`SELECT * FROM invitations WHERE token_hash = $1
		AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE`, HashToken(token), s.Now()).Scan(&inv)
	if res.Error != nil {
		return nil, fmt.Errorf("models: invitation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return &inv, nil
}

// join adds the user to the invitation's panel and uses the invitation up.
func (s *Store) join(tx *gorm.DB, inv *Invitation, userID int64) (*Panel, error) {
	now := s.Now()
	if err := tx.Exec(`INSERT INTO user_panels (user_id, panel_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		userID, inv.PanelID, now).Error; err != nil {
		return nil, fmt.Errorf("models: join panel %d: %w", inv.PanelID, err)
	}
	if err := tx.Exec(`UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3`, now, userID, inv.ID).Error; err != nil {
		return nil, fmt.Errorf("models: accept invitation %d: %w", inv.ID, err)
	}
	var p Panel
	if err := tx.First(&p, inv.PanelID).Error; err != nil {
		return nil, fmt.Errorf("models: panel %d: %w", inv.PanelID, notFound(err))
	}
	return &p, nil
}

// AcceptInvitation makes an existing user a member of the invitation's
// panel and uses the link up. ErrNotFound when the link is not (or no
// longer) valid; ErrNotInvitee when the user's address is not the one
// invited.
func (s *Store) AcceptInvitation(ctx context.Context, token string, userID int64) (*Panel, error) {
	var p *Panel
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		inv, err := s.lockInvitation(tx, token)
		if err != nil {
			return err
		}
		var email string
		if err := tx.Raw(`SELECT email FROM users WHERE id = $1`, userID).Scan(&email).Error; err != nil {
			return fmt.Errorf("models: user %d: %w", userID, err)
		}
		if email != inv.Email {
			return ErrNotInvitee
		}
		p, err = s.join(tx, inv, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// MarkInvitationMailed records that a pending invitation's link was
// e-mailed to the invited address.
func (s *Store) MarkInvitationMailed(ctx context.Context, token string) error {
	if err := s.db.WithContext(ctx).Exec(`UPDATE invitations SET mailed = true WHERE token_hash = $1
		AND accepted_at IS NULL AND revoked_at IS NULL`, HashToken(token)).Error; err != nil {
		return fmt.Errorf("models: mark invitation mailed: %w", err)
	}
	return nil
}

// AcceptInvitationAsNewUser creates the account of the invited address
// with this password and makes it a member of the invitation's panel, all
// or nothing. A conflict on "email" when the address has an account: its
// owner accepts by signing in instead.
func (s *Store) AcceptInvitationAsNewUser(ctx context.Context, token, password string) (*User, *Panel, error) {
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, nil, err
	}
	var u User
	var p *Panel
	err = s.Tx(ctx, func(tx *gorm.DB) error {
		inv, err := s.lockInvitation(tx, token)
		if err != nil {
			return err
		}
		if !inv.Mailed {
			return ErrLinkShown
		}
		now := s.Now()
		u = User{Email: inv.Email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&u).Error; err != nil {
			if uniqueViolation(err, "users_email_key") {
				return userExists
			}
			return fmt.Errorf("models: create user: %w", err)
		}
		p, err = s.join(tx, inv, u.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return &u, p, nil
}

// LeavePanel takes a user out of a panel. Their sessions in it move to
// their first remaining panel (the one sign-in would choose), or end when
// none remains; remaining is that list. ErrNotFound when the user is not a
// member; a conflict when they are its only member.
func (s *Store) LeavePanel(ctx context.Context, userID, panelID int64) (remaining []Panel, err error) {
	err = s.Tx(ctx, func(tx *gorm.DB) error {
		// Locking the panel's memberships makes two last members leaving at
		// once wait for each other: the second sees the first gone.
		var members []int64
		remaining = nil // a retried run reads it afresh
		if err := tx.Raw(`SELECT user_id FROM user_panels WHERE panel_id = $1 FOR UPDATE`, panelID).Scan(&members).Error; err != nil {
			return fmt.Errorf("models: members of panel %d: %w", panelID, err)
		}
		if !slices.Contains(members, userID) {
			return fmt.Errorf("models: user %d in panel %d: %w", userID, panelID, ErrNotFound)
		}
		if len(members) == 1 {
			return lastMember
		}
		if err := tx.Exec(`DELETE FROM user_panels WHERE user_id = $1 AND panel_id = $2`, userID, panelID).Error; err != nil {
			return fmt.Errorf("models: leave panel %d: %w", panelID, err)
		}
		if err := tx.Raw(`SELECT p.* FROM panels p JOIN user_panels m ON m.panel_id = p.id
			WHERE m.user_id = $1 ORDER BY lower(p.name), p.id`, userID).Scan(&remaining).Error; err != nil {
			return fmt.Errorf("models: panels of user %d: %w", userID, err)
		}
		var res *gorm.DB
		if len(remaining) > 0 {
			res = tx.Exec(`UPDATE sessions SET panel_id = $1 WHERE user_id = $2 AND panel_id = $3`, remaining[0].ID, userID, panelID)
		} else {
			res = tx.Exec(`DELETE FROM sessions WHERE user_id = $1`, userID)
		}
		if err := res.Error; err != nil {
			return fmt.Errorf("models: sessions of user %d: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return remaining, nil
}
