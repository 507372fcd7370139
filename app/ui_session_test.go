package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/ui"
	"github.com/heraldhq/herald/models/modeltest"
)

// The session cookie is Secure when the request came over TLS, or when
// Herald is told it is served over HTTPS (behind a TLS proxy).
func TestSessionCookieSecure(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	p, err := store.EnsurePanel(ctx, "acme_prod")
	require.NoError(t, err)
	u, err := store.CreateUser(ctx, "ana@example.com", "correct horse battery")
	require.NoError(t, err)
	require.NoError(t, store.AddUserToPanel(ctx, u.ID, p.ID))
	form := url.Values{"email": {"ana@example.com"}, "password": {"correct horse battery"}}.Encode()

	for _, tc := range []struct {
		name, target string
		cfg          Config
		secure       bool
	}{
		{"plain HTTP", "http://herald.test/login", Config{}, false},
		{"over TLS", "https://herald.test/login", Config{}, true},
		{"behind a TLS proxy", "http://herald.test/login", Config{SecureCookies: true}, true},
	} {
		h := New(Params{Config: tc.cfg, Store: store}).Handler()
		req := httptest.NewRequest(http.MethodPost, tc.target, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusSeeOther, rec.Code, tc.name)
		cookies := rec.Result().Cookies()
		require.Len(t, cookies, 1, tc.name)
		require.Equal(t, ui.SessionCookie, cookies[0].Name)
		require.Equal(t, tc.secure, cookies[0].Secure, tc.name)
		require.True(t, cookies[0].HttpOnly, tc.name)
		require.Equal(t, http.SameSiteLaxMode, cookies[0].SameSite, tc.name)
	}
}
