package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Every answer carries the security headers, the error pages the router
// writes itself (no route, wrong method) and JSON answers included.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, MetricsToken: "metrics-secret"})
	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{"page 404", http.MethodGet, "/no-such-page", http.StatusNotFound},
		{"page 405", http.MethodDelete, "/login", http.StatusMethodNotAllowed},
		{"API 404", http.MethodGet, "/api/v1/no-such-thing", http.StatusNotFound},
		{"API 405", http.MethodPut, "/api/v1/webhooks", http.StatusMethodNotAllowed},
		{"API 401", http.MethodGet, "/api/v1/webhooks", http.StatusUnauthorized},
		{"ingest 401", http.MethodPost, "/v1/webhook/shop", http.StatusUnauthorized},
		{"metrics 401", http.MethodGet, "/metrics", http.StatusUnauthorized},
		{"health", http.MethodGet, "/healthz", http.StatusOK},
		{"sign-in page", http.MethodGet, "/login", http.StatusOK},
		{"the router's trailing-slash redirect", http.MethodGet, "/login/", http.StatusMovedPermanently},
		{"the router's redirect under the API", http.MethodGet, "/api/v1/webhooks/", http.StatusMovedPermanently},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tc.method, env.URL+tc.path, strings.NewReader("{}"))
			require.NoError(t, err)
			resp, err := noRedirects.Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			h := resp.Header
			require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'self'")
			require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			require.Equal(t, "DENY", h.Get("X-Frame-Options"))
			require.Equal(t, "same-origin", h.Get("Referrer-Policy"))
		})
	}
}

// noRedirects shows a redirect itself rather than following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
