package app_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// from sends a request as if a proxy had forwarded it for addr.
func from(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

// requireRetryAfter checks a refusal says when to come back, within
// bounds: a lockout ends on its own.
func requireRetryAfter(t *testing.T, res apptest.Result, maxSeconds int) {
	t.Helper()
	n, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", res.Header.Get("Retry-After"))
	require.True(t, n >= 1 && n <= maxSeconds, "Retry-After %d", n)
}

// Failed sign-ins are limited per account, whatever address they come
// from, and the refusal reads the same for an account that does not
// exist. Successful sign-ins do not count.
//
//nolint:paralleltest // the subtests draw addresses from one counter, in turn
func TestUISignInLimitPerAccount(t *testing.T) {
	t.Parallel()
	// The test's requests reach Herald from loopback: the trusted proxy.
	env := apptest.Start(t, apptest.Options{NoWorker: true, LoginRateLimit: 3,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}})
	env.User(uiEmail, uiPassword)
	env.User("bo@example.com", uiPassword)
	addr := 0
	next := func() http.Header { addr++; return from("203.0.113." + strconv.Itoa(addr)) }

	for i := range 12 {
		res := env.NewUI().Post("/login", url.Values{"email": {uiEmail}, "password": {uiPassword}}, next())
		require.Equal(t, http.StatusSeeOther, res.Status, "sign-in %d: successes take nothing from the budget", i+1)
	}
	for _, email := range []string{uiEmail, "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			for i := range 10 {
				// Alternating case and spaces do not make another account.
				typed := email
				if i%2 == 1 {
					typed = " " + strings.ToUpper(email)
				}
				ui := env.NewUI()
				res := ui.Follow(ui.Post("/login", url.Values{"email": {typed}, "password": {"guess"}}, next()))
				require.Equal(t, http.StatusUnauthorized, res.Status, "failure %d, from its own address", i+1)
			}
			ui := env.NewUI()
			post := ui.Post("/login", url.Values{"email": {email}, "password": {uiPassword}}, next())
			requireRetryAfter(t, post, 91) // one attempt comes back every 90 s
			res := ui.Follow(post)
			require.Equal(t, http.StatusTooManyRequests, res.Status, "the 11th try, from a fresh address, even with the right password")
			require.Contains(t, res.Body, "Too many sign-in attempts. Wait a few minutes and try again.")
			require.NotContains(t, res.Body, "Wrong e-mail address or password")
		})
	}
	res := env.NewUI().Post("/login", url.Values{"email": {"bo@example.com"}, "password": {uiPassword}}, next())
	require.Equal(t, http.StatusSeeOther, res.Status, "other accounts are not held up")
}

// Without trusted proxies X-Forwarded-For is ignored: a client cannot
// name a new address to get a fresh budget.
func TestUISignInSpoofedForwardedFor(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, LoginRateLimit: 3})
	for i := range 3 {
		ui := env.NewUI()
		res := ui.Follow(ui.Post("/login", url.Values{"email": {"user" + strconv.Itoa(i) + "@example.com"}, "password": {"guess"}},
			from("198.51.100."+strconv.Itoa(i+1))))
		require.Equal(t, http.StatusUnauthorized, res.Status, "attempt %d", i+1)
	}
	ui := env.NewUI()
	post := ui.Post("/login", url.Values{"email": {"user9@example.com"}, "password": {"guess"}}, from("198.51.100.9"))
	requireRetryAfter(t, post, 61)
	require.Equal(t, http.StatusTooManyRequests, ui.Follow(post).Status, "one address, one budget, whatever the header says")
}

// UI pages are limited per session, and per address before sign-in.
func TestUIRateLimit(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, UIRateLimit: 3})
	env.User(uiEmail, uiPassword)
	env.User("bo@example.com", uiPassword)
	ana := env.SignIn(uiEmail, uiPassword) // the address's 1st request
	bo := env.SignIn("bo@example.com", uiPassword)

	for i := range 3 {
		require.Equal(t, http.StatusOK, ana.Get("/webhooks").Status, "page %d", i+1)
	}
	res := ana.Get("/webhooks")
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	require.Contains(t, res.Body, "Too many requests from this browser. Wait a minute and try again.")
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	requireRetryAfter(t, res, 61)
	res = ana.Do(http.MethodGet, "/webhooks", nil, http.Header{"Accept": {"application/json"}})
	require.Equal(t, http.StatusTooManyRequests, res.Status, "the page's script gets JSON")
	require.JSONEq(t, `{"error": "too many requests: wait a minute and try again"}`, res.Body)
	require.Equal(t, http.StatusOK, bo.Get("/webhooks").Status, "another session has its own budget")

	require.Equal(t, http.StatusOK, env.NewUI().Get("/login").Status, "the address's 3rd request")
	res = env.NewUI().Do(http.MethodGet, "/login", nil, from("198.51.100.7"))
	require.Equal(t, http.StatusTooManyRequests, res.Status, "signed out: per address, and X-Forwarded-For is not believed")
}
