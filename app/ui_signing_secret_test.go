package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// A webhook saved from the UI without custom headers (the form sends an
// empty list; the stored row has none) stays in service when its signing
// secret is generated: no header is no header, however it was written.
func TestUISigningSecretKeepsAWebhookWithoutHeadersActive(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	form := url.Values{"label": {"No headers"}, "description": {""}, "url": {recv.URL + "/hook"}, "method": {"POST"},
		"basic_auth_username": {""}, "basic_auth_password": {""}, "batch_size": {"100"}, "batch_wait": {"1"}}
	asScript := http.Header{"Accept": {"application/json"}}
	res := ui.Post("/webhooks/test", form, asScript)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	res = ui.Post("/webhooks", form, asScript)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var saved struct{ Redirect string }
	require.NoError(t, json.Unmarshal([]byte(res.Body), &saved))

	var w webhookJSON
	env.Call("GET", "/api/v1"+saved.Redirect, nil, &w)
	require.Equal(t, models.StatusActive, w.Status)
	res = ui.Post(saved.Redirect+"/signing-secret", url.Values{}, nil)
	require.Less(t, res.Status, 400, res.Body)
	env.Call("GET", "/api/v1"+saved.Redirect, nil, &w)
	require.True(t, w.SigningSecretSet)
	require.Equal(t, models.StatusActive, w.Status, "a signing secret does not take it out of service")

	// Through the API too, and the label alone.
	code, raw := env.Call("POST", "/api/v1"+saved.Redirect+"/signing-secret", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.Call("PATCH", "/api/v1"+saved.Redirect, map[string]any{"label": "Renamed"}, &w)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, models.StatusActive, w.Status)
}
