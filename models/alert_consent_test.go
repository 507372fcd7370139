package models_test

import (
	"context"
	"sync/atomic"
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

	// The owner's no holds though the rows are gone: the panel may not add
	// the address again for RecipientDeclinedFor, nor ask through a row
	// added before the no.
	_, err = store.AddRecipient(ctx, other.ID, nil, "Ops@example.com")
	require.ErrorIs(t, err, models.ErrDeclined)
	require.ErrorAs(t, err, &conflict)
	require.Equal(t, "email", conflict.Field)
	require.Contains(t, conflict.Message, "said no")
	hook3, err := store.CreateWebhook(ctx, other.ID, newSpec("Consent hook 3"))
	require.NoError(t, err)
	store.Clock.Advance(models.RecipientDeclinedFor)
	again, err := store.AddRecipient(ctx, other.ID, nil, "Ops@example.com")
	require.NoError(t, err, "added again a month on")
	require.NoError(t, store.DBForTest().Exec(`UPDATE alert_consent_asks SET declined_at = ? WHERE panel_id = ?`,
		store.Now(), other.ID).Error) // the owner says no again (through another row's link)
	_, err = store.NewRecipientConfirmation(ctx, other.ID, again.ID, allowAll)
	require.ErrorIs(t, err, models.ErrDeclined, "a row added before the no is not asked")
	_, err = store.AddRecipient(ctx, other.ID, &hook3.ID, "ops@example.com")
	require.ErrorIs(t, err, models.ErrDeclined)
}

func allowAll(*models.AlertRecipient) error { return nil }

// A panel's turn to mail an address a link outlives the recipient's row:
// removing and adding the address again does not make it sooner. A link
// refused by a further limit leaves the earlier link working and the
// turn untaken.
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
	require.NoError(t, store.RecipientLinkSent(ctx, kept))
	store.Clock.Advance(models.RecipientConfirmEvery)
	limit := &models.TooSoonError{Message: "limit"}
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, r.ID, func(*models.AlertRecipient) error { return limit })
	require.ErrorIs(t, err, limit, "the further limit refuses")
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, r.ID, func(*models.AlertRecipient) error { return limit })
	require.ErrorIs(t, err, limit, "a refused link took no turn")
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

// Saying no through one row's link while the panel resends the link of
// another row of the same address: both take the recipient rows before
// the asks row, so neither waits on the other in a cycle (a deadlock,
// which PostgreSQL breaks after a second by failing one of them).
func TestDecliningWhileTheLinkIsResentDoesNotDeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	store.Clock = &models.Clock{}
	db := store.DBForTest()
	panel, err := store.EnsurePanel(ctx, "consent_deadlock")
	require.NoError(t, err)
	hook, err := store.CreateWebhook(ctx, panel.ID, newSpec("Deadlock hook"))
	require.NoError(t, err)
	wide, err := store.AddRecipient(ctx, panel.ID, nil, "dl@example.com")
	require.NoError(t, err)
	own, err := store.AddRecipient(ctx, panel.ID, &hook.ID, "DL@example.com")
	require.NoError(t, err)
	first, err := store.NewRecipientConfirmation(ctx, panel.ID, wide.ID, allowAll)
	require.NoError(t, err)
	require.NoError(t, store.RecipientLinkSent(ctx, first))
	store.Clock.Advance(models.RecipientConfirmEvery)
	var deadlocksBefore int64
	require.NoError(t, db.Raw(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Row().Scan(&deadlocksBefore))

	// Hold the webhook row of the address, so both wait on it in turn.
	holder := db.Begin()
	require.NoError(t, holder.Exec(`SELECT FROM alert_recipients WHERE id = ? FOR UPDATE`, own.ID).Error)
	waiting := func(n int) func() bool {
		return func() bool {
			var got int
			return db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).
				Row().Scan(&got) == nil && got >= n
		}
	}
	var allowed atomic.Int32
	resent, declined := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := store.NewRecipientConfirmation(ctx, panel.ID, own.ID, func(*models.AlertRecipient) error { allowed.Add(1); return nil })
		resent <- err
	}()
	require.Eventually(t, waiting(1), 10*time.Second, 5*time.Millisecond, "the resend waits for the row")
	go func() { _, err := store.DeclineRecipient(ctx, first.Token); declined <- err }()
	require.Eventually(t, waiting(2), 10*time.Second, 5*time.Millisecond, "the no waits too")
	require.NoError(t, holder.Commit().Error)
	require.NoError(t, <-resent)
	require.NoError(t, <-declined)
	require.EqualValues(t, 1, allowed.Load(), "the resend ran once: not failed and tried again")
	var deadlocks int64
	require.NoError(t, db.Raw(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Row().Scan(&deadlocks))
	require.Equal(t, deadlocksBefore, deadlocks)
}

// A link the mail server did not take is undone: the link mailed before
// works again, and the panel may send one again at once. A stored
// address outside ASCII (before Mailable refused it) is not asked, its
// old link does not confirm, and alerts leave it out rather than fold it
// into the ASCII address it lowers to.
func TestRecipientLinkUndoAndOldAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	store.Clock = &models.Clock{}
	db := store.DBForTest()
	panel, err := store.EnsurePanel(ctx, "consent_undo")
	require.NoError(t, err)
	hook, err := store.CreateWebhook(ctx, panel.ID, newSpec("Undo hook"))
	require.NoError(t, err)
	r, err := store.AddRecipient(ctx, panel.ID, nil, "undo@example.com")
	require.NoError(t, err)
	first, err := store.NewRecipientConfirmation(ctx, panel.ID, r.ID, allowAll)
	require.NoError(t, err)
	require.NoError(t, store.RecipientLinkSent(ctx, first))
	store.Clock.Advance(models.RecipientConfirmEvery)
	failed, err := store.NewRecipientConfirmation(ctx, panel.ID, r.ID, allowAll)
	require.NoError(t, err)
	require.NoError(t, store.RecipientLinkNotSent(ctx, failed))
	_, err = store.RecipientConsentByToken(ctx, first.Token)
	require.NoError(t, err, "the link mailed before works again")
	_, err = store.RecipientConsentByToken(ctx, failed.Token)
	require.ErrorIs(t, err, models.ErrNotFound, "the link never mailed does not")
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, r.ID, allowAll)
	require.NoError(t, err, "the turn is back")

	// Stored before the ASCII rule: confirmed İbm.com, and an unconfirmed one
	// with a live link, beside an ASCII address it lowers to.
	require.NoError(t, db.Exec(`INSERT INTO alert_recipients (panel_id, email, created_at, confirmed_at) VALUES (?, 'boss@İbm.com', now(), now())`,
		panel.ID).Error)
	var old int64
	require.NoError(t, db.Raw(`INSERT INTO alert_recipients (panel_id, webhook_id, email, created_at, confirm_token_hash, confirm_expires_at)
		VALUES (?, ?, 'victim@İbm.com', now(), ?, now() + interval '1 day') RETURNING id`,
		panel.ID, hook.ID, models.HashToken("hrcp_oldlink")).Row().Scan(&old))
	victim, err := store.AddRecipient(ctx, panel.ID, nil, "victim@ibm.com")
	require.NoError(t, err)
	_, err = store.NewRecipientConfirmation(ctx, panel.ID, old, allowAll)
	var conflict *models.ConflictError
	require.ErrorAs(t, err, &conflict, "not asked")
	_, err = store.ConfirmRecipient(ctx, "hrcp_oldlink")
	require.ErrorIs(t, err, models.ErrNotFound)
	got, err := store.Recipient(ctx, panel.ID, victim.ID)
	require.NoError(t, err)
	require.Nil(t, got.ConfirmedAt, "the old link did not confirm victim@ibm.com")
	to, err := store.RecipientsFor(ctx, panel.ID, hook.ID)
	require.NoError(t, err)
	mailable, unmailable := models.SplitMailable(to)
	require.NotContains(t, mailable, "boss@ibm.com")
	require.Contains(t, unmailable, "boss@İbm.com")
}
