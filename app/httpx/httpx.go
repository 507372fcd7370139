// Package httpx is what Herald's route table (package app) and the
// audience packages it mounts (app/api, app/ui, app/ingest) share. They
// import neither app, which imports them, nor each other, so what they
// have in common sits here: the keys of the values middleware leaves in
// the gin context and their accessors, the bearer token of a request,
// strict request decoding (bind.go), loading the webhook, journey, list
// or segment a request's :id names in its panel only and reading its
// ?page= or ?after= (load.go), the JSON of a webhook
// test (test_result.go), and the HTTP errors with the one mapping of
// errors to status codes (errors.go): models' validation, conflict and
// not-found errors and the journey package's InvalidError and
// PublishError become 4xx there, and nowhere else.
package httpx

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// Keys of values middleware leaves in the gin context.
const (
	// CtxRequestID is the request's id (a string), set by the request log.
	CtxRequestID = "request_id"
	// CtxPanel is the *models.Panel a token or session admitted.
	CtxPanel = "panel"
)

// PanelOf is the panel the request was admitted for; it panics on a
// route no authentication guards, which is a bug of the route table.
func PanelOf(c *gin.Context) *models.Panel {
	return c.MustGet(CtxPanel).(*models.Panel)
}

// Bearer returns the token of an "Authorization: Bearer" header.
func Bearer(c *gin.Context) string {
	scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
