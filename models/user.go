package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"
)

// User is a person who signs in to the web UI.
type User struct {
	ID           int64
	Email        string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Password lengths: bcrypt reads only the first 72 bytes, so a longer
// password would silently not count.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 72
)

// ValidateUserEmail checks an address and returns it normalised.
func ValidateUserEmail(email string) (string, error) {
	email = NormalizeEmail(email)
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", invalid("email", "is not an e-mail address")
	}
	return email, nil
}

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLength:
		return invalid("password", "must be at least %d characters", MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return invalid("password", "must be at most %d bytes", MaxPasswordLength)
	}
	return nil
}

func (s *Store) passwordCost() int { return cmp.Or(s.PasswordCost, bcrypt.DefaultCost) }

func (s *Store) hashPassword(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.passwordCost())
	if err != nil {
		return "", fmt.Errorf("models: hash password: %w", err)
	}
	return string(h), nil
}

// userExists is the error for a second account with the same address.
var userExists = &ConflictError{Field: "email", Message: "a user with this e-mail address already exists"}

// CreateUser stores a new user with a bcrypt hash of the password.
func (s *Store) CreateUser(ctx context.Context, email, password string) (*User, error) {
	email, err := ValidateUserEmail(email)
	if err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	u := User{Email: email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		if uniqueViolation(err, "users_email_key") {
			return nil, userExists
		}
		return nil, fmt.Errorf("models: create user: %w", err)
	}
	return &u, nil
}

// UserByEmail loads a user by address.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("models: user %q: %w", email, notFound(err))
	}
	return &u, nil
}

// SetPassword replaces a user's password and ends their sessions: whoever
// knew the old one is signed out.
func (s *Store) SetPassword(ctx context.Context, userID int64, password string) error {
	hash, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return s.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&User{}).Where("id = ?", userID).Updates(map[string]any{"password_hash": hash, "updated_at": s.Now()})
		if res.Error != nil {
			return fmt.Errorf("models: set password of user %d: %w", userID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("models: set password of user %d: %w", userID, ErrNotFound)
		}
		if err := tx.Where("user_id = ?", userID).Delete(&Session{}).Error; err != nil {
			return fmt.Errorf("models: end sessions of user %d: %w", userID, err)
		}
		return nil
	})
}

// dummyHashes are compared against when no user has the address, so a
// failed sign-in takes as long whether or not the address is known. One
// per cost, made when first needed.
var dummyHashes sync.Map // cost → []byte

func dummyHash(cost int) []byte {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.([]byte)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("herald: no such user"), cost)
	dummyHashes.Store(cost, h)
	return h
}

// CheckPassword returns the user with this address and password;
// ErrNotFound when either is wrong, without saying which.
func (s *Store) CheckPassword(ctx context.Context, email, password string) (*User, error) {
	u, err := s.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(s.passwordCost()), []byte(password))
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrNotFound
	}
	return u, nil
}

// AddUserToPanel makes a user a member of a panel; adding twice is a no-op.
func (s *Store) AddUserToPanel(ctx context.Context, userID, panelID int64) error {
	err := s.db.WithContext(ctx).Exec(`INSERT INTO user_panels (user_id, panel_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		userID, panelID, s.Now()).Error
	if err != nil {
		return fmt.Errorf("models: add user %d to panel %d: %w", userID, panelID, err)
	}
	return nil
}

// UserPanels lists the panels a user belongs to, by name.
func (s *Store) UserPanels(ctx context.Context, userID int64) ([]Panel, error) {
	var ps []Panel
	err := s.db.WithContext(ctx).Raw(`SELECT p.* FROM panels p JOIN user_panels m ON m.panel_id = p.id
		WHERE m.user_id = $1 ORDER BY lower(p.name), p.id`, userID).Scan(&ps).Error
	if err != nil {
		return nil, fmt.Errorf("models: panels of user %d: %w", userID, err)
	}
	return ps, nil
}

// PanelUsers lists a panel's members, by address.
func (s *Store) PanelUsers(ctx context.Context, panelID int64) ([]User, error) {
	var us []User
	err := s.db.WithContext(ctx).Raw(`SELECT u.* FROM users u JOIN user_panels m ON m.user_id = u.id
		WHERE m.panel_id = $1 ORDER BY u.email`, panelID).Scan(&us).Error
	if err != nil {
		return nil, fmt.Errorf("models: users of panel %d: %w", panelID, err)
	}
	return us, nil
}
