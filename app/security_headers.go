package app

import "net/http"

// WithSecurityHeaders sets the security headers of every response before
// next runs, outside the router, so that error pages (404, 405, 413, 429, a
// recovered panic) and the router's own redirects (a trailing slash) carry
// them too. The policy allows nothing from elsewhere: the pages need only
// their own CSS and JavaScript, and no page may be framed. On JSON, metrics
// and static files they cost nothing and forbid content sniffing.
func WithSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
