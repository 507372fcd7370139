package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

const (
	uiEmail    = "ana@example.com"
	uiPassword = "correct horse battery"
)

// webhookForm is the webhook form as a browser posts it.
func webhookForm(label, target string) url.Values {
	return url.Values{
		"label": {label}, "description": {""}, "url": {target}, "method": {"POST"},
		"basic_auth_username": {"mkt"}, "basic_auth_password": {"pw-secret-1"},
		"header_name": {"X-Api-Key", "X-Tenant"}, "header_value": {"hdr-secret-2", "acme"},
		"batch_size": {"100"}, "batch_wait": {"1"},
	}
}

func TestUISignIn(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.NewUI()

	res := ui.Get("/webhooks?status=x")
	require.Equal(t, http.StatusSeeOther, res.Status, "signed out: to the sign-in page")
	require.Equal(t, "/login?next="+url.QueryEscape("/webhooks?status=x"), res.Location)
	res = ui.Post("/webhooks", webhookForm("A", "http://127.0.0.1:1/"), nil)
	require.Equal(t, http.StatusSeeOther, res.Status, "a post without a session changes nothing")
	require.Equal(t, "/login", res.Location)

	for _, tc := range []struct{ email, password string }{
		{uiEmail, "wrong password"}, {"nobody@example.com", uiPassword}, {"", ""},
	} {
		res = ui.Follow(ui.Post("/login", url.Values{"email": {tc.email}, "password": {tc.password}}, nil))
		require.Equal(t, http.StatusUnauthorized, res.Status, tc.email)
		require.Contains(t, res.Body, "Wrong e-mail address or password.", "the same words whether the address is known or not")
		require.NotContains(t, strings.Join(res.Header.Values("Set-Cookie"), "\n"), "herald_session")
	}

	// A user in no panel cannot get in.
	_, err := env.Store.CreateUser(context.Background(), "lonely@example.com", uiPassword)
	require.NoError(t, err)
	res = ui.Follow(ui.Post("/login", url.Values{"email": {"lonely@example.com"}, "password": {uiPassword}}, nil))
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Contains(t, res.Body, "belongs to no panel")

	res = ui.Post("/login", url.Values{"email": {" ANA@example.com"}, "password": {uiPassword}, "next": {"/journeys"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Equal(t, "/journeys", res.Location)
	cookie := res.Header.Get("Set-Cookie")
	require.Contains(t, cookie, "herald_session=hs_")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	require.NotContains(t, cookie, "Secure", "plain HTTP here; Secure comes with TLS or an https public URL")
	page := ui.Get("/webhooks")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, uiEmail)
	require.Contains(t, page.Header.Get("Content-Security-Policy"), "default-src 'self'")

	// The only redirect targets are this site's pages.
	for _, next := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`} {
		res = env.NewUI().Post("/login", url.Values{"email": {uiEmail}, "password": {uiPassword}, "next": {next}}, nil)
		require.Equal(t, "/", res.Location, next)
	}

	// Signing out ends the session on the server: the old cookie is dead.
	stolen := ui.Client.Jar.Cookies(mustURL(t, env.URL))
	res = ui.Post("/logout", url.Values{}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	other := env.NewUI()
	other.Client.Jar.SetCookies(mustURL(t, env.URL), stolen)
	require.Equal(t, http.StatusSeeOther, other.Get("/webhooks").Status)
}

func TestUIPanelIsolation(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword) // acme_prod only
	env.User("both@example.com", uiPassword, "rival")
	rival := env.TokenFor("rival")
	var w struct{ ID int64 }
	code, raw := env.CallAs(rival, "POST", "/api/v1/webhooks", map[string]any{"label": "Rival hook", "url": recv.URL}, &w)
	require.Equal(t, http.StatusCreated, code, raw)
	var j struct{ ID int64 }
	code, raw = env.CallAs(rival, "POST", "/api/v1/journeys", `{"name": "Rival journey", "nodes": [
		{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]}`, &j)
	require.Equal(t, http.StatusCreated, code, raw)
	hook, journey := "/webhooks/"+itoa(w.ID), "/journeys/"+itoa(j.ID)

	ui := env.SignIn(uiEmail, uiPassword)
	for _, path := range []string{hook, hook + "/edit", journey} {
		res := ui.Get(path)
		require.Equal(t, http.StatusNotFound, res.Status, path)
		require.NotContains(t, res.Body, "Rival")
	}
	for _, path := range []string{hook + "/delete", hook + "/disable", hook + "/replay", journey + "/stop"} {
		require.Equal(t, http.StatusNotFound, ui.Post(path, url.Values{}, nil).Status, path)
	}
	require.NotContains(t, ui.Get("/webhooks").Body, "Rival hook")
	require.NotContains(t, ui.Get("/journeys").Body, "Rival journey")
	rivalPanel, err := env.Store.EnsurePanel(context.Background(), "rival")
	require.NoError(t, err)
	res := ui.Post("/panel", url.Values{"panel": {itoa(rivalPanel.ID)}}, nil)
	require.Equal(t, http.StatusNotFound, res.Status, "no switching to a panel one is not a member of")
	code, _ = env.CallAs(rival, "GET", "/api/v1/webhooks/"+itoa(w.ID), nil, nil)
	require.Equal(t, http.StatusOK, code, "still there")

	// A member of both switches and sees it; the panel name is in the switcher.
	both := env.SignIn("both@example.com", uiPassword)
	page := both.Get("/webhooks")
	require.Contains(t, page.Body, `name="panel"`)
	require.NotContains(t, page.Body, "Rival hook")
	res = both.Post("/panel", url.Values{"panel": {itoa(rivalPanel.ID)}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Contains(t, both.Get("/webhooks").Body, "Rival hook")
	require.Equal(t, http.StatusOK, both.Get(hook).Status)
}

func TestUIRefusesCrossOriginPosts(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	id := env.ActiveWebhook("Keep me", recv.URL, nil)
	ui := env.SignIn(uiEmail, uiPassword)

	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://127.0.0.1:1"}},
		{"Origin": {"https://evil.example"}},
	} {
		res := ui.Post("/webhooks/"+itoa(id)+"/delete", url.Values{}, h)
		require.Equal(t, http.StatusForbidden, res.Status, h)
		require.Contains(t, res.Body, "sent from another site")
		res = ui.Post("/login", url.Values{"email": {uiEmail}, "password": {uiPassword}}, h)
		require.Equal(t, http.StatusForbidden, res.Status, "signing in is guarded too: %v", h)
	}
	code, _ := env.Call("GET", "/api/v1/webhooks/"+itoa(id), nil, nil)
	require.Equal(t, http.StatusOK, code, "nothing was deleted")

	res := ui.Post("/webhooks/"+itoa(id)+"/delete", url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {env.URL}})
	require.Equal(t, http.StatusSeeOther, res.Status, "the page's own form goes through")
	code, _ = env.Call("GET", "/api/v1/webhooks/"+itoa(id), nil, nil)
	require.Equal(t, http.StatusNotFound, code)
}

func TestUISaveNeedsAPassingTest(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	var status atomic.Int32
	recv := answering(t, &status)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	form := webhookForm("Email Open Webhook", recv.URL+"/hook")
	asScript := http.Header{"Accept": {"application/json"}}

	// Untested: refused, and nothing stored; the form comes back (after
	// its redirect) with the reason and without the secrets.
	res := ui.Submit("/webhooks", form)
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Body, "Test this configuration first")
	require.NotContains(t, res.Body, "pw-secret-1", "the password is not put back in the page")
	require.NotContains(t, res.Body, "hdr-secret-2")
	var list struct{ Webhooks []webhookJSON }
	env.Call("GET", "/api/v1/webhooks", nil, &list)
	require.Empty(t, list.Webhooks)

	// A failed test does not unlock Save.
	status.Store(500)
	var tr testJSON
	res = ui.Post("/webhooks/test", form, asScript)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &tr))
	require.False(t, tr.Passed)
	require.Equal(t, 500, tr.StatusCode)
	require.Equal(t, "receiver says Internal Server Error", tr.Body)
	res = ui.Post("/webhooks", form, asScript)
	require.Equal(t, http.StatusConflict, res.Status)
	var e errorBody
	require.NoError(t, json.Unmarshal([]byte(res.Body), &e))
	require.Contains(t, e.Error, "test this configuration first")

	status.Store(200)
	res = ui.Post("/webhooks/test", form, asScript)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &tr))
	require.True(t, tr.Passed, res.Body)

	// A test verifies exactly what was tested: another password is not it.
	changed := webhookForm("Email Open Webhook", recv.URL+"/hook")
	changed.Set("basic_auth_password", "other-password")
	require.Equal(t, http.StatusConflict, ui.Submit("/webhooks", changed).Status)

	// The tested configuration saves, and is active at once.
	res = ui.Post("/webhooks", form, asScript)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var saved struct{ Redirect, SigningSecret string }
	require.NoError(t, json.Unmarshal([]byte(res.Body), &saved))
	require.Regexp(t, `^/webhooks/\d+$`, saved.Redirect)
	var w webhookJSON
	env.Call("GET", "/api/v1"+saved.Redirect, nil, &w)
	require.Equal(t, models.StatusActive, w.Status)
	page := ui.Get(saved.Redirect)
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, "is active")
	for _, secret := range []string{"pw-secret-1", "hdr-secret-2"} {
		require.NotContains(t, page.Body, secret)
		require.NotContains(t, ui.Get(saved.Redirect+"/edit").Body, secret)
	}

	// Editing: the label alone needs no new test; a header value does.
	edit := webhookForm("Renamed", recv.URL+"/hook")
	edit.Set("basic_auth_password", "")
	edit["header_value"] = []string{"", ""} // blank keeps the stored values
	res = ui.Post(saved.Redirect, edit, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	edit["header_value"] = []string{"new-key", ""}
	res = ui.Submit(saved.Redirect, edit)
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Body, "Test this configuration first")
	res = ui.Post(saved.Redirect+"/test", edit, asScript)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &tr))
	require.True(t, tr.Passed)
	res = ui.Post(saved.Redirect, edit, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	env.Call("GET", "/api/v1"+saved.Redirect, nil, &w)
	require.Equal(t, "Renamed", w.Label)
	require.Equal(t, models.StatusActive, w.Status, "an active webhook stays in service through a tested change")
	last := recv.All()[len(recv.All())-1]
	require.Equal(t, "new-key", last.Header.Get("X-Api-Key"))
	require.Equal(t, "acme", last.Header.Get("X-Tenant"), "the blank value kept the stored one")

	// Bad input is reported by field.
	bad := webhookForm("", "ftp://x")
	res = ui.Post("/webhooks/test", bad, asScript)
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &e))
	require.Equal(t, "url", e.Field)
	res = ui.Submit("/webhooks", bad)
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, `id="err-label" data-error-for="label" >Is required</p>`)
	require.Contains(t, res.Body, `value="ftp://x"`, "what was typed comes back")
	require.Equal(t, http.StatusOK, ui.Get("/webhooks/new").Status, "once: a reload shows a fresh form")
}

func TestUIPagesRender(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	id := env.ActiveWebhook("Orders", recv.URL, map[string]any{"batch_wait_ms": 0,
		"headers": []map[string]any{{"name": "X-Api-Key", "value": "hdr-secret-2"}}})
	ids := env.Deliver(id, map[string]any{"order": 1}, map[string]any{"order": 2})
	recv.WaitDelivered(t, 10e9, ids)
	env.WaitStatus(10e9, models.DeliveryDelivered, ids...)
	ui := env.SignIn(uiEmail, uiPassword)

	list := ui.Get("/webhooks")
	require.Equal(t, http.StatusOK, list.Status)
	require.Contains(t, list.Body, "Orders")
	require.Contains(t, list.Body, ">active<")
	require.Contains(t, list.Body, "100.0%")
	require.Contains(t, list.Body, "HTTP 200")

	page := ui.Get("/webhooks/" + itoa(id))
	require.Equal(t, http.StatusOK, page.Status)
	require.Equal(t, 3, strings.Count(page.Body, `<svg class="chart"`))
	require.Contains(t, page.Body, ids[0][:4]) // dlv_
	require.Contains(t, page.Body, `&#34;order&#34;: 1`)
	require.NotContains(t, page.Body, "hdr-secret-2")
	filtered := ui.Get("/webhooks/" + itoa(id) + "?status=failed")
	require.Contains(t, filtered.Body, "No deliveries match.")
	attempts := ui.Get("/webhooks/" + itoa(id) + "?tab=attempts&since=2000-01-01T00:00")
	require.Contains(t, attempts.Body, ">delivered<")
	require.Contains(t, ui.Get("/webhooks/"+itoa(id)+"?since=yesterday").Body, "Not a time")

	for path, want := range map[string]string{
		"/journeys": "New journey", "/settings": "Ingest keys", "/webhooks/new": "Test, then save",
		"/webhooks/" + itoa(id) + "/edit": "These settings passed their last test.",
	} {
		res := ui.Get(path)
		require.Equal(t, http.StatusOK, res.Status, path)
		require.Contains(t, res.Body, want, path)
	}
	res := ui.Get("/nowhere")
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Contains(t, res.Body, "There is no such page.")
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

func TestUISignInIsRateLimited(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, LoginRateLimit: 3})
	env.User(uiEmail, uiPassword)
	ui := env.NewUI()
	wrong := url.Values{"email": {uiEmail}, "password": {"guess"}}
	for i := range 3 {
		require.Equal(t, http.StatusUnauthorized, ui.Follow(ui.Post("/login", wrong, nil)).Status, "attempt %d", i+1)
	}
	post := ui.Post("/login", url.Values{"email": {uiEmail}, "password": {uiPassword}}, nil)
	require.NotEmpty(t, post.Header.Get("Retry-After"))
	res := ui.Follow(post)
	require.Equal(t, http.StatusTooManyRequests, res.Status, "the 4th attempt in a minute, even with the right password")
	require.Contains(t, res.Body, "Too many sign-in attempts")
}

func TestUIAlertRecipients(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	hook := env.ActiveWebhook("Orders hook", recv.URL, nil)
	rival := env.TokenFor("rival")
	var theirs struct{ ID int64 }
	code, raw := env.CallAs(rival, "POST", "/api/v1/alert-recipients", map[string]any{"email": "rival@example.com"}, &theirs)
	require.Equal(t, http.StatusCreated, code, raw)
	var rivalHook struct{ ID int64 }
	env.CallAs(rival, "POST", "/api/v1/webhooks", map[string]any{"label": "Rival hook", "url": recv.URL}, &rivalHook)

	ui := env.SignIn(uiEmail, uiPassword)
	res := ui.Submit("/settings/alert-recipients", url.Values{"email": {"not an address"}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, "Is not an e-mail address")
	res = ui.Submit("/settings/alert-recipients", url.Values{"email": {"ops@example.com"}, "webhook_id": {itoa(rivalHook.ID)}})
	require.Equal(t, http.StatusBadRequest, res.Status, "another panel's webhook cannot be chosen")

	require.Equal(t, http.StatusSeeOther, ui.Post("/settings/alert-recipients", url.Values{"email": {"ops@example.com"}}, nil).Status)
	require.Equal(t, http.StatusSeeOther, ui.Post("/settings/alert-recipients",
		url.Values{"email": {"orders@example.com"}, "webhook_id": {itoa(hook)}}, nil).Status)
	res = ui.Submit("/settings/alert-recipients", url.Values{"email": {"ops@example.com"}})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Body, "already gets these alerts")

	page := ui.Get("/settings").Body
	require.Contains(t, page, "ops@example.com")
	require.Contains(t, page, "orders@example.com")
	require.Contains(t, page, "Orders hook")
	require.NotContains(t, page, "rival@example.com")
	require.NotContains(t, page, "Rival hook")
	// No alert until each owner agrees; with no mail server, no link
	// could go, and the page says so.
	require.Contains(t, page, "data-no-link")
	require.Contains(t, page, "no link to agree has gone to it")
	got, err := env.Store.RecipientsFor(context.Background(), env.Panel.ID, hook)
	require.NoError(t, err)
	require.Empty(t, got)
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE alert_recipients SET confirmed_at = now() WHERE panel_id = ?`, env.Panel.ID).Error)
	got, err = env.Store.RecipientsFor(context.Background(), env.Panel.ID, hook)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"ops@example.com", "orders@example.com"}, got)
	require.NotContains(t, ui.Get("/settings").Body, "data-unconfirmed")

	// Another panel's recipient is not this panel's to remove.
	require.Equal(t, http.StatusNotFound, ui.Post("/settings/alert-recipients/"+itoa(theirs.ID)+"/remove", url.Values{}, nil).Status)
	rs, err := env.Store.ListRecipients(context.Background(), env.Panel.ID)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	for _, r := range rs {
		require.Equal(t, http.StatusSeeOther, ui.Post("/settings/alert-recipients/"+itoa(r.ID)+"/remove", url.Values{}, nil).Status)
	}
	require.Contains(t, ui.Get("/settings").Body, "Nobody gets alert e-mail yet")
}
