package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func TestUsersAndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	prod, _ := store.EnsurePanel(ctx, "acme_prod")
	test, _ := store.EnsurePanel(ctx, "acme_test")

	u, err := store.CreateUser(ctx, " Ana@Example.com ", "s3cret-enough")
	require.NoError(t, err)
	require.Equal(t, "ana@example.com", u.Email)
	require.NotContains(t, u.PasswordHash, "s3cret", "only a hash is kept")
	_, err = store.CreateUser(ctx, "ana@example.com", "another-one")
	var ce *models.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "email", ce.Field)

	_, err = store.CheckPassword(ctx, "ana@example.com", "wrong")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = store.CheckPassword(ctx, "nobody@example.com", "s3cret-enough")
	require.ErrorIs(t, err, models.ErrNotFound)
	got, err := store.CheckPassword(ctx, "ANA@example.com", "s3cret-enough")
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)

	require.NoError(t, store.AddUserToPanel(ctx, u.ID, prod.ID))
	require.NoError(t, store.AddUserToPanel(ctx, u.ID, prod.ID), "adding twice is a no-op")
	token, sess, err := store.CreateSession(ctx, u.ID, prod.ID, time.Hour)
	require.NoError(t, err)
	require.NotContains(t, string(sess.TokenHash), token)
	info, err := store.SessionByToken(ctx, token)
	require.NoError(t, err)
	require.Equal(t, "acme_prod", info.Panel.Name)
	require.Equal(t, "ana@example.com", info.Email)

	// Only to a panel of one's own.
	require.ErrorIs(t, store.SwitchPanel(ctx, sess.ID, test.ID), models.ErrNotFound)
	require.NoError(t, store.AddUserToPanel(ctx, u.ID, test.ID))
	require.NoError(t, store.SwitchPanel(ctx, sess.ID, test.ID))
	info, err = store.SessionByToken(ctx, token)
	require.NoError(t, err)
	require.Equal(t, "acme_test", info.Panel.Name)
	panels, err := store.UserPanels(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, panels, 2)
	users, err := store.PanelUsers(ctx, test.ID)
	require.NoError(t, err)
	require.Len(t, users, 1)

	// A session dies with its time (and its row at the user's next
	// sign-in), with sign-out, and with a new password.
	sessions := func() (n int64) {
		require.NoError(t, store.DBForTest().Model(&models.Session{}).Where("user_id = ?", u.ID).Count(&n).Error)
		return n
	}
	later := time.Now().UTC().Add(2 * time.Hour)
	store.Clock.Set(later)
	_, err = store.SessionByToken(ctx, token)
	require.ErrorIs(t, err, models.ErrNotFound)
	token, _, err = store.CreateSession(ctx, u.ID, prod.ID, time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(1), sessions(), "the expired session was swept")
	require.NoError(t, store.DeleteSession(ctx, token))
	_, err = store.SessionByToken(ctx, token)
	require.ErrorIs(t, err, models.ErrNotFound)
	token, _, _ = store.CreateSession(ctx, u.ID, prod.ID, time.Hour)
	require.NoError(t, store.SetPassword(ctx, u.ID, "a-new-password"))
	_, err = store.SessionByToken(ctx, token)
	require.ErrorIs(t, err, models.ErrNotFound)
	require.Zero(t, sessions())
}

func TestUserValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		email, password, field string
	}{
		{"not an address", "long-enough", "email"},
		{"Ana <ana@example.com>", "long-enough", "email"},
		{"ana@example.com", "short", "password"},
		{"ana@example.com", string(make([]byte, 73)), "password"},
	} {
		_, err := models.ValidateUserEmail(tc.email)
		if err == nil {
			err = models.ValidatePassword(tc.password)
		}
		var ve *models.ValidationError
		require.ErrorAs(t, err, &ve, tc)
		require.Equal(t, tc.field, ve.Field, tc)
	}
}
