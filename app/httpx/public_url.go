package httpx

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// PublicURL is the base of links Herald hands out (invitations, alert
// recipients' confirmations): configured (HERALD_PUBLIC_URL), or the
// address this request came to, over HTTPS when it came so or secure.
func PublicURL(c *gin.Context, configured string, secure bool) string {
	if configured != "" {
		return strings.TrimRight(configured, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil || secure {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// ConsentPath is the route of the link that asks an alert recipient's
// owner to agree (see health.Consent). The token is in the path, so the
// request log writes the route instead.
const ConsentPath = "/alert-recipients/confirm/:token"

// ConsentLink is the link of a consent token.
func ConsentLink(base, token string) string {
	return base + strings.TrimSuffix(ConsentPath, ":token") + token
}
