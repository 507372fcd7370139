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

	token, r, err := store.NewRecipientConfirmation(ctx, panel.ID, wide.ID)
	require.NoError(t, err)
	require.Equal(t, wide.ID, r.ID)
	_, _, err = store.NewRecipientConfirmation(ctx, other.ID, wide.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "another panel's recipient")
	require.NoError(t, store.MarkRecipientConfirmationSent(ctx, wide.ID))
	_, _, err = store.NewRecipientConfirmation(ctx, panel.ID, own.ID)
	var soon *models.TooSoonError
	require.ErrorAs(t, err, &soon, "the same address of the panel, asked a moment ago")
	require.Positive(t, soon.Retry)

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
	_, _, err = store.NewRecipientConfirmation(ctx, panel.ID, own.ID)
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
	token2, _, err := store.NewRecipientConfirmation(ctx, other.ID, theirs.ID)
	require.NoError(t, err)
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
}
