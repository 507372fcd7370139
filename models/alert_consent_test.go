package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// A recipient gets no alert until the owner of its address agrees through
// a link (double opt-in). Agreeing covers every webhook the address was
// added for in that panel, and no other panel; saying no removes the
// panel's unconfirmed rows of the address; a link expires, is refused
// when asked for again too soon, and works once.
func TestRecipientConsent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	store.Clock = &models.Clock{}
	panel, err := store.EnsurePanel(ctx, "consent")
	require.NoError(t, err)
	other, err := store.EnsurePanel(ctx, "consent_other")
	require.NoError(t, err)
	hook, err := store.CreateWebhook(ctx, panel.ID, newSpec("Consent hook"))
	require.NoError(t, err)
	to := func(panelID int64) []string {
		t.Helper()
		got, err := store.RecipientsFor(ctx, panelID, hook.ID)
		require.NoError(t, err)
		return got
	}

	wide, err := store.AddRecipient(ctx, panel.ID, nil, "Ops@Example.com")
	require.NoError(t, err)
	require.Nil(t, wide.ConfirmedAt)
	own, err := store.AddRecipient(ctx, panel.ID, &hook.ID, "ops@example.com")
	require.NoError(t, err)
	theirs, err := store.AddRecipient(ctx, other.ID, nil, "ops@example.com")
	require.NoError(t, err)
	require.Empty(t, to(panel.ID), "no alert before the owner agrees")

	l, err := store.NewRecipientConfirmation(ctx, panel.ID, wide.ID, allowAll)
	require.NoError(t, err)
	token := l.Token
	require.Equal(t, wide.ID, l.Recipient.ID)
	_, err = store.NewRecipientConfirmation(ctx, other.ID, wide.ID, allowAll)
	require.ErrorIs(t, err, models.ErrNotFound, "another panel's recipient")
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, own.ID, allowAll)
	var soon *models.TooSoonError
	require.ErrorAs(t, err, &soon, "the same address of the panel, being asked: concurrent asks take turns")
	require.Positive(t, soon.Retry)
	require.NoError(t, store.RecipientLinkSent(ctx, l))

	rc, err := store.RecipientConsentByToken(ctx, token)
	require.NoError(t, err)
	require.Equal(t, "consent", rc.PanelName)
	require.Empty(t, to(panel.ID), "reading the link changes nothing")
	_, err = store.RecipientConsentByToken(ctx, token+"x")
	require.ErrorIs(t, err, models.ErrNotFound)

	rc, err = store.ConfirmRecipient(ctx, token)
	require.NoError(t, err)
	require.True(t, rc.Confirmed)
	require.Equal(t, []string{"ops@example.com"}, to(panel.ID), "both rows of the address, for the panel and its webhook")
	require.Empty(t, to(other.ID), "another panel's row of the same address waits for its own yes")
	_, err = store.ConfirmRecipient(ctx, token)
	require.ErrorIs(t, err, models.ErrNotFound, "a link works once")
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, own.ID, allowAll)
	var conflict *models.ConflictError
	require.ErrorAs(t, err, &conflict, "confirmed already")

	// An address that agreed is not asked again for another webhook.
	hook2, err := store.CreateWebhook(ctx, panel.ID, newSpec("Consent hook 2"))
	require.NoError(t, err)
	more, err := store.AddRecipient(ctx, panel.ID, &hook2.ID, "OPS@example.com")
	require.NoError(t, err)
	require.NotNil(t, more.ConfirmedAt)

	// The other panel's link expires: yes is refused, no still works and
	// removes only the unconfirmed rows of that panel.
	l2, err := store.NewRecipientConfirmation(ctx, other.ID, theirs.ID, allowAll)
	require.NoError(t, err)
	token2 := l2.Token
	store.Clock.Advance(models.RecipientConfirmTTL + time.Second)
	_, err = store.RecipientConsentByToken(ctx, token2)
	require.ErrorIs(t, err, models.ErrLinkExpired)
	_, err = store.ConfirmRecipient(ctx, token2)
	require.ErrorIs(t, err, models.ErrLinkExpired)
	require.Empty(t, to(other.ID))
	rc, err = store.DeclineRecipient(ctx, token2)
	require.NoError(t, err)
	require.Equal(t, other.ID, rc.PanelID)
	_, err = store.Recipient(ctx, other.ID, theirs.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "declined: removed")
	_, err = store.Recipient(ctx, panel.ID, wide.ID)
	require.NoError(t, err, "the first panel's rows stay")
	_, err = store.DeclineRecipient(ctx, token2)
	require.ErrorIs(t, err, models.ErrNotFound, "used")

	// The owner's no holds though the rows are gone: added again, the
	// address is not asked for RecipientDeclinedFor.
	again, err := store.AddRecipient(ctx, other.ID, nil, "Ops@example.com")
	require.NoError(t, err)
	_, err = store.NewRecipientConfirmation(ctx, other.ID, again.ID, allowAll)
	require.ErrorIs(t, err, models.ErrDeclined)
	require.ErrorAs(t, err, &conflict, "said no")
	require.Contains(t, conflict.Message, "said no")
	store.Clock.Advance(models.RecipientDeclinedFor)
	_, err = store.NewRecipientConfirmation(ctx, other.ID, again.ID, allowAll)
	require.NoError(t, err, "asked again a month on")
}

func allowAll(*models.AlertRecipient) error { return nil }

// A panel's turn to mail an address a link outlives the recipient's row:
// removing and adding the address again does not make it sooner. A link
// refused by a further limit leaves the earlier link working and the
// turn untaken; a link the mail server did not take gives it back.
func TestRecipientLinkTurns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	store.Clock = &models.Clock{}
	panel, err := store.EnsurePanel(ctx, "consent_turns")
	require.NoError(t, err)
	r, err := store.AddRecipient(ctx, panel.ID, nil, "turns@example.com")
	require.NoError(t, err)
	first, err := store.NewRecipientConfirmation(ctx, panel.ID, r.ID, allowAll)
	require.NoError(t, err)
	require.NoError(t, store.RecipientLinkSent(ctx, first))

	require.NoError(t, store.RemoveRecipient(ctx, panel.ID, r.ID))
	r, err = store.AddRecipient(ctx, panel.ID, nil, "TURNS@example.com")
	require.NoError(t, err)
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, r.ID, allowAll)
	var soon *models.TooSoonError
	require.ErrorAs(t, err, &soon, "removed and added again: still its turn")

	store.Clock.Advance(models.RecipientConfirmEvery)
	kept, err := store.NewRecipientConfirmation(ctx, panel.ID, r.ID, allowAll)
	require.NoError(t, err)
	limit := &models.TooSoonError{Message: "limit"}
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, r.ID, func(*models.AlertRecipient) error { return limit })
	require.ErrorAs(t, err, &soon)
	require.NoError(t, store.RecipientLinkNotSent(ctx, kept))
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, r.ID, func(*models.AlertRecipient) error { return limit })
	require.ErrorIs(t, err, limit, "a link not sent gives the turn back; the further limit refuses")
	_, err = store.RecipientConsentByToken(ctx, kept.Token)
	require.NoError(t, err, "the refused link did not replace the one before")
}

func TestMailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		address string
		want    bool
	}{
		{"ops@example.com", true},
		{"Ops.Team+alerts@sub.example.com", true},
		{"ops@xn--bcher-kva.example", true},
		{"ops@example.com.", false},
		{"a..b@example.com", false},
		{"Ops <ops@example.com>", false},
		{"victim@İbm.com", false}, // lower() folds it into victim@ibm.com
		{"ops@bücher.example", false},
		{"", false},
	} {
		require.Equal(t, tc.want, models.Mailable(tc.address), tc.address)
	}
}
