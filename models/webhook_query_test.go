package models_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func newSpec(label string) models.WebhookSpec {
	s := models.DefaultWebhookSpec()
	s.Label = label
	s.URL = "http://127.0.0.1:9/hook"
	s.BasicAuth = &models.BasicAuth{Username: "marketing", Password: "pw-secret-1"}
	s.Headers = []models.Header{{Name: "X-Api-Key", Value: "hdr-secret-2"}}
	s.SigningSecret = models.NewSigningSecret()
	return s
}

func TestWebhookSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "acme_prod")
	require.NoError(t, err)
	spec := newSpec("Orders")
	w, err := store.CreateWebhook(ctx, panel.ID, spec)
	require.NoError(t, err)

	var row struct {
		BasicAuthPassword, Headers, SigningSecret []byte
		Dump                                      string
	}
	require.NoError(t, store.DBForTest().Raw(`SELECT basic_auth_password, headers, signing_secret, row_to_json(webhooks)::text AS dump
		FROM webhooks WHERE id = ?`, w.ID).Scan(&row).Error)
	for _, secret := range []string{"pw-secret-1", "hdr-secret-2", spec.SigningSecret, "X-Api-Key"} {
		require.NotContains(t, row.Dump, secret)
		for _, col := range [][]byte{row.BasicAuthPassword, row.Headers, row.SigningSecret} {
			require.False(t, bytes.Contains(col, []byte(secret)), "plaintext %q stored", secret)
		}
	}
	got, err := store.Spec(w)
	require.NoError(t, err)
	require.Equal(t, spec, got)
}

func TestWebhookActivationNeedsPassingTestOfCurrentConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, _ := store.EnsurePanel(ctx, "acme")
	w, err := store.CreateWebhook(ctx, panel.ID, newSpec("Orders"))
	require.NoError(t, err)
	require.Equal(t, models.StatusUntested, w.Status)

	_, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
	require.ErrorIs(t, err, models.ErrConflict, "never tested")

	record := func(passed bool, code int) {
		require.NoError(t, store.RecordTest(ctx, &models.WebhookTest{PanelID: panel.ID, WebhookID: &w.ID,
			ConfigFP: w.ConfigFP, URL: w.URL, Passed: passed, StatusCode: code}))
	}
	record(false, 500)
	_, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
	require.ErrorIs(t, err, models.ErrConflict, "latest test failed")

	record(true, 200)
	w, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
	require.NoError(t, err)
	require.Equal(t, models.StatusActive, w.Status)

	// A change outside URL, method, auth and headers keeps it in service.
	desc := "the orders team"
	w, err = store.UpdateWebhook(ctx, panel.ID, w.ID, &models.WebhookInput{Description: &desc})
	require.NoError(t, err)
	require.Equal(t, models.StatusActive, w.Status)

	for name, in := range map[string]*models.WebhookInput{
		"url":     {URL: ptr("http://127.0.0.1:9/other")},
		"method":  {Method: ptr("GET")},
		"headers": {Headers: &[]models.HeaderInput{{Name: "X-Api-Key", Value: ptr("rotated")}}},
		"auth":    {BasicAuth: models.Optional[models.BasicAuthInput]{Set: true, Null: true}},
	} {
		w, err = store.UpdateWebhook(ctx, panel.ID, w.ID, in)
		require.NoError(t, err, name)
		require.Equal(t, models.StatusUntested, w.Status, "changing %s must untest the asset", name)
		_, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
		require.ErrorIs(t, err, models.ErrConflict, name)
		record(true, 200) // the new configuration passes; back in service
		w, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
		require.NoError(t, err)
	}

	w, err = store.DeactivateWebhook(ctx, panel.ID, w.ID)
	require.NoError(t, err)
	require.Equal(t, models.StatusInactive, w.Status)
	w, _, err = store.ActivateWebhook(ctx, panel.ID, w.ID)
	require.NoError(t, err, "an unchanged, verified configuration comes back without a new test")
	require.Equal(t, models.StatusActive, w.Status)
}

func TestUnsavedTestVerifiesSameConfigInSamePanelOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	acme, _ := store.EnsurePanel(ctx, "acme")
	other, _ := store.EnsurePanel(ctx, "other")
	spec := newSpec("Orders")
	fp := store.ConfigFingerprint(&spec)
	require.NoError(t, store.RecordTest(ctx, &models.WebhookTest{PanelID: other.ID, ConfigFP: fp, URL: spec.URL, Passed: true, StatusCode: 200}))

	w, err := store.CreateWebhook(ctx, acme.ID, spec)
	require.NoError(t, err)
	_, _, err = store.ActivateWebhook(ctx, acme.ID, w.ID)
	require.ErrorIs(t, err, models.ErrConflict, "another panel's test must not count")

	require.NoError(t, store.RecordTest(ctx, &models.WebhookTest{PanelID: acme.ID, ConfigFP: fp, URL: spec.URL, Passed: true, StatusCode: 200}))
	_, _, err = store.ActivateWebhook(ctx, acme.ID, w.ID)
	require.NoError(t, err)
}

func TestWebhookPanelIsolationAndLabels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	acme, _ := store.EnsurePanel(ctx, "acme")
	other, _ := store.EnsurePanel(ctx, "other")
	w, err := store.CreateWebhook(ctx, acme.ID, newSpec("Orders"))
	require.NoError(t, err)

	_, err = store.Webhook(ctx, other.ID, w.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = store.UpdateWebhook(ctx, other.ID, w.ID, &models.WebhookInput{Label: ptr("x")})
	require.ErrorIs(t, err, models.ErrNotFound)
	require.ErrorIs(t, store.DeleteWebhook(ctx, other.ID, w.ID), models.ErrNotFound)
	_, _, err = store.ActivateWebhook(ctx, other.ID, w.ID)
	require.ErrorIs(t, err, models.ErrNotFound)

	_, err = store.CreateWebhook(ctx, acme.ID, newSpec("orders"))
	require.ErrorIs(t, err, models.ErrConflict, "labels are unique per panel, ignoring case")
	_, err = store.CreateWebhook(ctx, other.ID, newSpec("Orders"))
	require.NoError(t, err, "another panel may use the same label")

	list, err := store.ListWebhooks(ctx, acme.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	db := store.DBForTest()
	require.NoError(t, db.Exec(`INSERT INTO attempts (panel_id, webhook_id, batch_id, item_count, request_headers, outcome, created_at)
		VALUES (?, ?, 'b', 1, '{}', 'delivered', now())`, acme.ID, w.ID).Error)
	require.NoError(t, store.DeleteWebhook(ctx, acme.ID, w.ID))
	_, err = store.Webhook(ctx, acme.ID, w.ID)
	require.ErrorIs(t, err, models.ErrNotFound)
	var attempts int64
	require.NoError(t, db.Raw(`SELECT count(*) FROM attempts WHERE webhook_id = ?`, w.ID).Scan(&attempts).Error)
	require.Zero(t, attempts, "deleting a webhook deletes its attempts (they have no foreign key)")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	acme, _ := store.EnsurePanel(ctx, "acme")
	value, tok, err := store.CreateToken(ctx, acme.ID, models.TokenAdmin, "")
	require.NoError(t, err)
	require.NotContains(t, string(tok.Hash), value)

	p, err := store.Authenticate(ctx, models.TokenAdmin, value)
	require.NoError(t, err)
	require.Equal(t, "acme", p.Name)
	_, err = store.Authenticate(ctx, models.TokenIngest, value)
	require.ErrorIs(t, err, models.ErrNotFound, "an admin token is not an ingest key")
	_, err = store.Authenticate(ctx, models.TokenAdmin, value+"x")
	require.ErrorIs(t, err, models.ErrNotFound)

	require.NoError(t, store.RevokeToken(ctx, acme.ID, models.TokenAdmin, tok.ID))
	_, err = store.Authenticate(ctx, models.TokenAdmin, value)
	require.ErrorIs(t, err, models.ErrNotFound)
}

func ptr[T any](v T) *T { return &v }
