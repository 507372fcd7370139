package app_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Stored secrets are sent only to the origin they were saved for: moving a
// webhook to another scheme, host or port needs them typed again, through
// the API's PATCH and through the UI's Test and Save alike.
//
//nolint:paralleltest // both subtests move webhooks between the same two receivers and count what each receives
func TestSecretsDoNotFollowANewOrigin(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	home, elsewhere := apptest.NewReceiver(t), apptest.NewReceiver(t) // two ports: two origins

	var w webhookJSON
	code, raw := env.Call("POST", "/api/v1/webhooks", createBody(home.URL+"/hook"), &w)
	require.Equal(t, http.StatusCreated, code, raw)
	path := "/api/v1/webhooks/" + itoa(w.ID)

	t.Run("api", func(t *testing.T) {
		var e errorBody
		code, raw := env.Call("PATCH", path, map[string]any{"url": elsewhere.URL + "/hook"}, &e)
		require.Equal(t, http.StatusBadRequest, code, raw)
		require.Equal(t, "basic_auth.password", e.Field)
		require.Contains(t, e.Error, "basic_auth.password, headers[0].value, headers[1].value", "every kept secret is named")

		// Header names without values, or a password left out, are kept secrets too.
		code, raw = env.Call("PATCH", path, map[string]any{"url": elsewhere.URL + "/hook",
			"basic_auth": map[string]any{"username": "mkt", "password": "pw-new"},
			"headers":    []map[string]any{{"name": "X-Api-Key"}, {"name": "X-Tenant", "value": "acme"}}}, &e)
		require.Equal(t, http.StatusBadRequest, code, raw)
		require.Equal(t, "headers[0].value", e.Field)

		var got webhookJSON
		env.Call("GET", path, nil, &got)
		require.Equal(t, home.URL+"/hook", got.URL, "a refused change changes nothing")
		var res testJSON
		env.Call("POST", path+"/test", nil, &res)
		require.True(t, res.Passed, res.Error)
		require.Empty(t, elsewhere.All())

		// A path on the same origin keeps them; so does writing the default port out.
		code, raw = env.Call("PATCH", path, map[string]any{"url": home.URL + "/other"}, &got)
		require.Equal(t, http.StatusOK, code, raw)

		// Typed again, they go to the new origin; the old ones never do.
		code, raw = env.Call("PATCH", path, map[string]any{"url": elsewhere.URL + "/hook",
			"basic_auth": map[string]any{"username": "mkt", "password": "pw-new"},
			"headers":    []map[string]any{{"name": "X-Api-Key", "value": "key-new"}}}, &got)
		require.Equal(t, http.StatusOK, code, raw)
		env.Call("POST", path+"/test", nil, &res)
		require.True(t, res.Passed, res.Error)
		reqs := elsewhere.All()
		require.Len(t, reqs, 1)
		_, pass, _ := (&http.Request{Header: reqs[0].Header}).BasicAuth()
		require.Equal(t, "pw-new", pass)
		require.Equal(t, "key-new", reqs[0].Header.Get("X-Api-Key"))
		require.Empty(t, reqs[0].Header.Get("X-Tenant"))

		// Removing the secrets is a way to move, too.
		code, raw = env.Call("PATCH", path, map[string]any{"url": home.URL + "/hook", "basic_auth": nil, "headers": []any{}}, &got)
		require.Equal(t, http.StatusOK, code, raw)
	})

	t.Run("ui", func(t *testing.T) {
		var w webhookJSON
		body := createBody(home.URL + "/hook")
		body["label"] = "Via the UI"
		env.Call("POST", "/api/v1/webhooks", body, &w)
		env.User(uiEmail, uiPassword)
		ui := env.SignIn(uiEmail, uiPassword)
		edit := webhookForm("Via the UI", elsewhere.URL+"/hook")
		edit.Set("basic_auth_password", "")
		edit["header_value"] = []string{"", ""} // blank: "keep the saved ones"
		before := len(elsewhere.All())

		res := ui.Post("/webhooks/"+itoa(w.ID)+"/test", edit, http.Header{"Accept": {"application/json"}})
		require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
		var e errorBody
		require.NoError(t, json.Unmarshal([]byte(res.Body), &e))
		require.Equal(t, "basic_auth.password", e.Field)
		require.Contains(t, e.Error, "enter it again")
		require.Len(t, elsewhere.All(), before, "the Test sent nothing to the new address")

		res = ui.Submit("/webhooks/"+itoa(w.ID), edit)
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Contains(t, res.Body, `data-error-for="basic_auth.password" >Was saved for `)
	})
}
