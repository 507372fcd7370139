package models_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// AddRecipient is the one place an alert recipient's address is checked,
// for the API and the UI alike, and where the webhook must be the panel's.
func TestAddRecipientChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "recipients")
	require.NoError(t, err)
	other, err := store.EnsurePanel(ctx, "recipients_other")
	require.NoError(t, err)
	own, err := store.CreateWebhook(ctx, panel.ID, newSpec("Own"))
	require.NoError(t, err)
	theirs, err := store.CreateWebhook(ctx, other.ID, newSpec("Theirs"))
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		email   string
		webhook *int64
		stored  string // the address stored; "" when refused
		field   string // the field a ValidationError names
		missing bool   // ErrNotFound
	}{
		{name: "panel-wide, trimmed", email: "  ops@example.com ", stored: "ops@example.com"},
		{name: "one webhook of the panel", email: "hook@example.com", webhook: &own.ID, stored: "hook@example.com"},
		{name: "not an address", email: "ops-at-example", field: "email"},
		{name: "empty", email: "  ", field: "email"},
		{name: "longer than 320 bytes", email: strings.Repeat("a", 310) + "@example.com", field: "email"},
		{name: "bad address before a bad webhook", email: "nope", webhook: &theirs.ID, field: "email"},
		{name: "another panel's webhook", email: "spy@example.com", webhook: &theirs.ID, missing: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := store.AddRecipient(ctx, panel.ID, tc.webhook, tc.email)
			switch {
			case tc.field != "":
				var ve *models.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.field, ve.Field)
				require.Equal(t, "is not an e-mail address", ve.Message)
			case tc.missing:
				require.ErrorIs(t, err, models.ErrNotFound)
			default:
				require.NoError(t, err)
				require.Equal(t, tc.stored, r.Email)
				require.Equal(t, tc.webhook, r.WebhookID)
			}
		})
	}
	rs, err := store.ListRecipients(ctx, other.ID)
	require.NoError(t, err)
	require.Empty(t, rs, "nothing reached the other panel")
}

// A panel has at most MaxAlertRecipients, counted across its webhooks,
// even when they are added at once; another panel's count is its own.
func TestAlertRecipientsOfAPanelAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "many_recipients")
	require.NoError(t, err)
	other, err := store.EnsurePanel(ctx, "many_recipients_other")
	require.NoError(t, err)
	hook, err := store.CreateWebhook(ctx, panel.ID, newSpec("Hook"))
	require.NoError(t, err)

	results := make(chan error, models.MaxAlertRecipients+10)
	var wg sync.WaitGroup
	for i := range models.MaxAlertRecipients + 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var webhook *int64
			if i%2 == 0 {
				webhook = &hook.ID
			}
			_, err := store.AddRecipient(ctx, panel.ID, webhook, fmt.Sprintf("ops%d@example.com", i))
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	refused := 0
	for err := range results {
		if err == nil {
			continue
		}
		var conflict *models.ConflictError
		require.ErrorAs(t, err, &conflict)
		require.Equal(t, "email", conflict.Field)
		require.Contains(t, conflict.Message, "at most 50 alert recipients")
		refused++
	}
	require.Equal(t, 10, refused)
	rs, err := store.ListRecipients(ctx, panel.ID)
	require.NoError(t, err)
	require.Len(t, rs, models.MaxAlertRecipients)

	_, err = store.AddRecipient(ctx, other.ID, nil, "ops@example.com")
	require.NoError(t, err, "another panel's recipients are its own")
}
