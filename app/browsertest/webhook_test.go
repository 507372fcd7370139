package browsertest

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

const (
	email    = "ana@example.com"
	password = "correct horse battery"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password, "acme_test")

	do(t, ctx, chromedp.Navigate(env.URL+"/webhooks"), chromedp.WaitVisible(chromedp.ID("email")))
	require.Contains(t, get(t, ctx, chromedp.Location()), "/login?next=%2Fwebhooks", "signed out: sent to sign in")
	shot(t, ctx, "login")
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), "not the password"),
	)
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/login"] button`)))
	waitText(t, ctx, ".form-error", "Wrong e-mail address or password.")
	// Post/redirect/get: back on the form's address with the address kept,
	// the password not; a reload shows a clean form and posts nothing.
	require.Contains(t, get(t, ctx, chromedp.Location()), "/login?next=%2Fwebhooks")
	require.Equal(t, email, get(t, ctx, chromedp.Evaluate[string](`document.getElementById("email").value`)))
	require.Empty(t, get(t, ctx, chromedp.Evaluate[string](`document.getElementById("password").value`)))
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("email")))
	require.False(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector(".form-error") !== null`)), "the refusal is shown once")

	signIn(t, ctx, env, email, password)
	require.Equal(t, env.URL+"/webhooks", get(t, ctx, chromedp.Location()))
	require.Equal(t, email, text(t, ctx, ".user"))
	shot(t, ctx, "webhooks-empty")

	// Settings: an ingest key is shown once, then only its first characters.
	submit(t, ctx, chromedp.Click(chromedp.CSS(`nav a[href="/settings"]`)))
	do(t, ctx, chromedp.SendKeys(chromedp.ID("key-label"), "Email provider"))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/settings/ingest-keys"] button`)))
	key := text(t, ctx, "pre.secret")
	require.Regexp(t, `^sk_live_[A-Za-z0-9]{40}$`, key)
	shot(t, ctx, "settings")
	submit(t, ctx, chromedp.Navigate(env.URL+"/settings"))
	page := get(t, ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	require.NotContains(t, page, key, "shown once only")
	require.Contains(t, page, key[:12]+"…")
	require.Contains(t, page, "Alert recipients")

	// The panel switcher, for a user of two panels.
	do(t, ctx, chromedp.SetValue(chromedp.ID("panel-switch"), optionValue(t, ctx, "#panel-switch", "acme_test")))
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.panel-switch button`)))
	waitText(t, ctx, "#panel-switch option[selected]", "acme_test")

	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	waitText(t, ctx, ".flash", "You are signed out.")
	do(t, ctx, chromedp.Navigate(env.URL+"/settings"), chromedp.WaitVisible(chromedp.ID("email")))
}

// The scenario of the issue: a new webhook's Save stays disabled until a
// test of the form's values returns 200; a 500 shows its status and body
// and keeps Save disabled; saving makes the webhook active.
func TestWebhookTestThenSave(t *testing.T) {
	t.Parallel()
	ctx := tab(t) // first: it skips when there is no browser
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(email, password)
	var status atomic.Int32
	status.Store(http.StatusInternalServerError)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(int, *apptest.Request) apptest.Answer {
		code := int(status.Load())
		return apptest.Answer{Status: code, Body: "receiver says " + http.StatusText(code)}
	}
	signIn(t, ctx, env, email, password)

	saveDisabled := func() bool {
		return get(t, ctx, chromedp.Evaluate[bool](`document.querySelector("[data-save]").disabled`))
	}
	submit(t, ctx, chromedp.Click(chromedp.CSS(`a[href="/webhooks/new"]`)))
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("label"), "Email Open Webhook"),
		chromedp.SendKeys(chromedp.ID("url"), recv.URL+"/hook"),
		chromedp.SendKeys(chromedp.ID("basic_auth_username"), "mkt"),
		chromedp.SendKeys(chromedp.ID("basic_auth_password"), "pw-secret-1"),
		chromedp.Click(chromedp.CSS(`[data-add-header]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-header-row] [name=header_name]`), "X-Api-Key"),
		chromedp.SendKeys(chromedp.CSS(`[data-header-row] [name=header_value]`), "hdr-secret-2"),
	)
	require.True(t, saveDisabled(), "Save is disabled before any test")

	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-test]`)))
	waitText(t, ctx, "[data-result-badge]", "failed")
	require.Equal(t, "HTTP 500", text(t, ctx, "[data-result-status]"))
	require.Equal(t, "receiver says Internal Server Error", text(t, ctx, "[data-result-body]"))
	require.True(t, saveDisabled(), "a 500 leaves Save disabled")
	shot(t, ctx, "webhook-form-test-500")

	status.Store(http.StatusOK)
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-test]`)))
	waitText(t, ctx, "[data-result-badge]", "passed")
	require.Equal(t, "HTTP 200", text(t, ctx, "[data-result-status]"))
	require.False(t, saveDisabled(), "a 200 enables Save")
	got := recv.All()[len(recv.All())-1]
	require.Equal(t, "hdr-secret-2", got.Header.Get("X-Api-Key"), "the test used the form's values")

	// Changing a tested field disables Save again; changing it back does not need a new test.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("url"), "x"))
	require.True(t, saveDisabled(), "an edited URL needs a new test")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("url"), "\b"))
	require.False(t, saveDisabled(), "back to the tested values")
	do(t, ctx, chromedp.SendKeys(chromedp.ID("description"), "Opens of the welcome mail"))
	require.False(t, saveDisabled(), "the description is not tested")
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-add-header]`)))
	require.False(t, saveDisabled(), "an empty header row sends nothing, so it needs no test")
	shot(t, ctx, "webhook-form-test-200")

	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-save]`)))
	waitText(t, ctx, "h1 .badge", "active")
	waitText(t, ctx, ".flash", "is active")
	loc := get(t, ctx, chromedp.Location())
	id, err := strconv.ParseInt(loc[strings.LastIndex(loc, "/")+1:], 10, 64)
	require.NoError(t, err, loc)
	w, err := env.Store.Webhook(t.Context(), env.Panel.ID, id)
	require.NoError(t, err)
	require.Equal(t, models.StatusActive, w.Status)
	html := get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	require.NotContains(t, html, "pw-secret-1", "no secret is rendered back")
	require.NotContains(t, html, "hdr-secret-2")
	shot(t, ctx, "webhook-page-new")

	// The signing secret: generated on the page and shown this once.
	submit(t, ctx, chromedp.Click(chromedp.CSS(`form[action$="/signing-secret"] button`)))
	secret := text(t, ctx, "pre.secret")
	require.Regexp(t, `^whsec_[A-Za-z0-9+/]{43}=$`, secret)
	shot(t, ctx, "signing-secret-once")
	submit(t, ctx, chromedp.Navigate(loc))
	require.NotContains(t, get(t, ctx, chromedp.OuterHTML(chromedp.CSS("html"))), secret)

	// Editing: saved secrets show as "set", and Save starts enabled.
	submit(t, ctx, chromedp.Click(chromedp.CSS(`.page-head a[href$="/edit"]`)))
	require.False(t, saveDisabled(), "the saved settings passed their test")
	require.Contains(t, get(t, ctx, chromedp.OuterHTML(chromedp.CSS("[data-header-rows]"))), "set · leave blank to keep")
	shot(t, ctx, "webhook-edit")

	do(t, ctx, chromedp.Navigate(env.URL+"/webhooks"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	require.Equal(t, "active", text(t, ctx, "table.list .badge"))
	shot(t, ctx, "webhooks")
}
