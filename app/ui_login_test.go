package app_test

import (
	"net/http"
	"net/url"
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
