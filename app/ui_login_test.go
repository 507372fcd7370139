package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// No next= target sends a signed-in user to another site: not from the
// sign-in form, and not from the sign-in page a signed-in user opens.
func TestUISignInNextStaysOnSite(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, LoginRateLimit: 1000})
	env.User(uiEmail, uiPassword)
	signedIn := env.SignIn(uiEmail, uiPassword)
	for _, next := range []string{
		"//evil.example", `/\evil.example`, "/%09/evil.example", "/\t/evil.example", "%2F%2Fevil.example",
		"/%2F/evil.example", "/%5Cevil.example", "https://evil.example", "javascript:alert(1)", "",
	} {
		t.Run(next, func(t *testing.T) {
			t.Parallel()
			res := env.NewUI().Post("/login", url.Values{"email": {uiEmail}, "password": {uiPassword}, "next": {next}}, nil)
			require.Equal(t, http.StatusSeeOther, res.Status)
			require.Equal(t, "/", res.Location)
			res = signedIn.Get("/login?next=" + url.QueryEscape(next))
			require.Equal(t, http.StatusSeeOther, res.Status)
			require.Equal(t, "/", res.Location)
		})
	}
	res := env.NewUI().Post("/login", url.Values{"email": {uiEmail}, "password": {uiPassword}, "next": {"/webhooks?x=1"}}, nil)
	require.Equal(t, "/webhooks?x=1", res.Location, "a clean path is kept")
}

// A refused sign-in answers the post/redirect/get way: a 303 back to the
// form, which then shows the message and the typed address (never the
// password) from a sealed, short-lived cookie; a reload shows a clean form
// and signs nobody in.
func TestUISignInPostRedirectGet(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.NewUI()
	const typed = "typed-password-9"
	post := ui.Post("/login", url.Values{"email": {uiEmail}, "password": {typed}, "next": {"/journeys"}}, nil)
	require.Equal(t, http.StatusSeeOther, post.Status)
	require.Equal(t, "/login?next=%2Fjourneys", post.Location, "back to the form, next kept")
	cookie := strings.Join(post.Header.Values("Set-Cookie"), "\n")
	require.Contains(t, cookie, "herald_form=")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	require.Contains(t, cookie, "Max-Age=60")
	require.NotContains(t, cookie, "herald_session")
	require.NotContains(t, cookie, url.QueryEscape(uiEmail), "sealed: the address is not readable in the cookie")

	page := ui.Follow(post)
	require.Equal(t, http.StatusUnauthorized, page.Status)
	require.Contains(t, page.Body, "Wrong e-mail address or password.")
	require.Contains(t, page.Body, `value="`+uiEmail+`"`, "the typed address is kept")
	require.Contains(t, page.Body, `value="/journeys"`)
	require.NotContains(t, page.Body, typed, "never the password")

	reload := ui.Get(post.Location)
	require.Equal(t, http.StatusOK, reload.Status)
	require.NotContains(t, reload.Body, "Wrong e-mail address or password.", "shown once")
	require.Equal(t, http.StatusSeeOther, ui.Get("/webhooks").Status, "nobody signed in")

	// A forged or tampered cookie is ignored.
	forged := env.NewUI()
	res := forged.Get("/login")
	require.Equal(t, http.StatusOK, res.Status)
	u, err := url.Parse(env.URL)
	require.NoError(t, err)
	forged.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_form", Value: "AQ" + strings.Repeat("A", 80), Path: "/"}})
	res = forged.Get("/login")
	require.Equal(t, http.StatusOK, res.Status)
	require.NotContains(t, res.Body, `class="form-error"`)
}
