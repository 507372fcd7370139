package models_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// member creates a user in the given panels.
func member(t *testing.T, store *models.Store, email string, panels ...*models.Panel) *models.User {
	t.Helper()
	u, err := store.CreateUser(context.Background(), email, "long-enough-pw")
	require.NoError(t, err)
	for _, p := range panels {
		require.NoError(t, store.AddUserToPanel(context.Background(), u.ID, p.ID))
	}
	return u
}

func memberEmails(t *testing.T, store *models.Store, panelID int64) []string {
	t.Helper()
	us, err := store.PanelUsers(context.Background(), panelID)
	require.NoError(t, err)
	var out []string
	for _, u := range us {
		out = append(out, u.Email)
	}
	return out
}

//nolint:paralleltest // the checks after the subtests count the invitations they made
func TestInvitationCreateAndReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	prod, _ := store.EnsurePanel(ctx, "acme_prod")
	ana := member(t, store, "ana@example.com", prod)
	member(t, store, "carol@example.com") // an account in no panel

	for _, tc := range []struct {
		name, email string
	}{
		{"unknown address", " Bob@Example.com "},
		{"address with an account", "carol@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, inv, err := store.CreateInvitation(ctx, prod.ID, ana.ID, tc.email)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(token, "hinv_"), token)
			require.Equal(t, models.NormalizeEmail(tc.email), inv.Email)
			require.Equal(t, models.HashToken(token), inv.TokenHash, "only the hash is kept")
			require.WithinDuration(t, inv.CreatedAt.Add(models.InvitationTTL), inv.ExpiresAt, time.Second)
			got, err := store.InvitationByToken(ctx, token)
			require.NoError(t, err)
			require.Equal(t, "acme_prod", got.PanelName)
			require.Equal(t, "ana@example.com", got.InviterEmail)
		})
	}
	require.Equal(t, []string{"ana@example.com"}, memberEmails(t, store, prod.ID), "an invitation adds nobody")

	// Inviting again replaces the pending invitation: the old link dies.
	old, _, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "bob@example.com")
	require.NoError(t, err)
	fresh, _, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "BOB@example.com")
	require.NoError(t, err)
	_, err = store.InvitationByToken(ctx, old)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = store.InvitationByToken(ctx, fresh)
	require.NoError(t, err)
	pending, err := store.PendingInvitations(ctx, prod.ID)
	require.NoError(t, err)
	require.Len(t, pending, 2, "bob once, carol once")

	// Bad input and members are refused; the refusals are about the
	// address, never about whether it has an account.
	_, _, err = store.CreateInvitation(ctx, prod.ID, ana.ID, "not an address")
	var ve *models.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "email", ve.Field)
	_, _, err = store.CreateInvitation(ctx, prod.ID, ana.ID, "ana@example.com")
	var ce *models.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "email", ce.Field)
}

//nolint:paralleltest // the subtests share one store and panel membership, in turn
func TestInvitationAccept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	prod, _ := store.EnsurePanel(ctx, "acme_prod")
	rival, _ := store.EnsurePanel(ctx, "rival")
	ana := member(t, store, "ana@example.com", prod)
	carol := member(t, store, "carol@example.com", rival)

	t.Run("new account", func(t *testing.T) {
		token, _, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "bob@example.com")
		require.NoError(t, err)
		_, _, err = store.AcceptInvitationAsNewUser(ctx, token, "bobs-own-password")
		require.ErrorIs(t, err, models.ErrLinkShown, "a link not mailed to the address makes no account")
		require.NoError(t, store.MarkInvitationMailed(ctx, token))
		_, _, err = store.AcceptInvitationAsNewUser(ctx, token, "short")
		var ve *models.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "password", ve.Field)
		_, err = store.UserByEmail(ctx, "bob@example.com")
		require.ErrorIs(t, err, models.ErrNotFound, "a refused password creates nothing")

		u, p, err := store.AcceptInvitationAsNewUser(ctx, token, "bobs-own-password")
		require.NoError(t, err)
		require.Equal(t, "bob@example.com", u.Email)
		require.Equal(t, prod.ID, p.ID)
		_, err = store.CheckPassword(ctx, "bob@example.com", "bobs-own-password")
		require.NoError(t, err)
		require.Contains(t, memberEmails(t, store, prod.ID), "bob@example.com")

		_, _, err = store.AcceptInvitationAsNewUser(ctx, token, "bobs-own-password")
		require.ErrorIs(t, err, models.ErrNotFound, "single use")
		_, err = store.AcceptInvitation(ctx, token, u.ID)
		require.ErrorIs(t, err, models.ErrNotFound, "single use")
	})

	t.Run("existing account", func(t *testing.T) {
		token, _, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "carol@example.com")
		require.NoError(t, err)
		require.NoError(t, store.MarkInvitationMailed(ctx, token))
		_, _, err = store.AcceptInvitationAsNewUser(ctx, token, "someone-elses-pw")
		var ce *models.ConflictError
		require.ErrorAs(t, err, &ce, "nobody sets a password for an existing account")
		_, err = store.CheckPassword(ctx, "carol@example.com", "long-enough-pw")
		require.NoError(t, err, "carol's password is untouched")

		_, err = store.AcceptInvitation(ctx, token, ana.ID)
		require.ErrorIs(t, err, models.ErrNotInvitee, "bound to the address")
		require.NotContains(t, memberEmails(t, store, prod.ID), "carol@example.com")

		p, err := store.AcceptInvitation(ctx, token, carol.ID)
		require.NoError(t, err)
		require.Equal(t, "acme_prod", p.Name)
		require.Contains(t, memberEmails(t, store, prod.ID), "carol@example.com")
		_, err = store.AcceptInvitation(ctx, token, carol.ID)
		require.ErrorIs(t, err, models.ErrNotFound, "single use")
	})

	t.Run("concurrent accepts: one wins", func(t *testing.T) {
		dave := member(t, store, "dave@example.com", rival)
		token, _, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "dave@example.com")
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { _, errs[i] = store.AcceptInvitation(ctx, token, dave.ID) })
		}
		wg.Wait()
		var won int
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.ErrorIs(t, err, models.ErrNotFound)
			}
		}
		require.Equal(t, 1, won)
	})
}

func TestInvitationExpiryAndRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	prod, _ := store.EnsurePanel(ctx, "acme_prod")
	rival, _ := store.EnsurePanel(ctx, "rival")
	ana := member(t, store, "ana@example.com", prod)

	late, _, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "late@example.com")
	require.NoError(t, err)
	revoked, inv, err := store.CreateInvitation(ctx, prod.ID, ana.ID, "gone@example.com")
	require.NoError(t, err)

	// Another panel cannot revoke it; this one can, once.
	_, err = store.RevokeInvitation(ctx, rival.ID, inv.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = store.InvitationByToken(ctx, revoked)
	require.NoError(t, err)
	_, err = store.RevokeInvitation(ctx, prod.ID, inv.ID)
	require.NoError(t, err)
	_, err = store.RevokeInvitation(ctx, prod.ID, inv.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = store.InvitationByToken(ctx, revoked)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, _, err = store.AcceptInvitationAsNewUser(ctx, revoked, "long-enough-pw")
	require.ErrorIs(t, err, models.ErrNotFound)

	later := time.Now().Add(models.InvitationTTL + time.Minute)
	store.Clock.Set(later)
	_, err = store.InvitationByToken(ctx, late)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, _, err = store.AcceptInvitationAsNewUser(ctx, late, "long-enough-pw")
	require.ErrorIs(t, err, models.ErrNotFound)
	pending, err := store.PendingInvitations(ctx, prod.ID)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, "late@example.com", pending[0].Email)
	require.True(t, pending[0].Expired, "listed as expired, to invite again")
	none, err := store.PendingInvitations(ctx, rival.ID)
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestLeavePanel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	prod, _ := store.EnsurePanel(ctx, "acme_prod")
	test, _ := store.EnsurePanel(ctx, "acme_test")
	ana := member(t, store, "ana@example.com", prod, test)
	bob := member(t, store, "bob@example.com", prod)
	inProd, _, err := store.CreateSession(ctx, ana.ID, prod.ID, time.Hour)
	require.NoError(t, err)

	// Ana leaves prod: her sessions there move to her other panel.
	remaining, err := store.LeavePanel(ctx, ana.ID, prod.ID)
	require.NoError(t, err)
	require.Len(t, remaining, 1)
	require.Equal(t, test.ID, remaining[0].ID)
	info, err := store.SessionByToken(ctx, inProd)
	require.NoError(t, err)
	require.Equal(t, "acme_test", info.Panel.Name)
	require.Equal(t, []string{"bob@example.com"}, memberEmails(t, store, prod.ID))
	_, err = store.LeavePanel(ctx, ana.ID, prod.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "not a member any more")

	// The last member stays.
	_, err = store.LeavePanel(ctx, bob.ID, prod.ID)
	var ce *models.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, []string{"bob@example.com"}, memberEmails(t, store, prod.ID))

	// Leaving one's last panel ends one's sessions.
	member(t, store, "carol@example.com", test)
	remaining, err = store.LeavePanel(ctx, ana.ID, test.ID)
	require.NoError(t, err)
	require.Empty(t, remaining)
	_, err = store.SessionByToken(ctx, inProd)
	require.ErrorIs(t, err, models.ErrNotFound)
	var n int64
	require.NoError(t, store.DBForTest().Model(&models.Session{}).Where("user_id = ?", ana.ID).Count(&n).Error)
	require.Zero(t, n)
}

func TestLeavePanelLastTwoAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	prod, _ := store.EnsurePanel(ctx, "acme_prod")
	other, _ := store.EnsurePanel(ctx, "other")
	users := []*models.User{member(t, store, "ana@example.com", prod, other), member(t, store, "bob@example.com", prod, other)}
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { _, errs[i] = store.LeavePanel(ctx, u.ID, prod.ID) })
	}
	wg.Wait()
	require.Len(t, memberEmails(t, store, prod.ID), 1, "errors: %v", errs)
	require.NotEqual(t, errs[0] == nil, errs[1] == nil, "one leaves, one is refused: %v", errs)
}
