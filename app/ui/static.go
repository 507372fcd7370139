package ui

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/web"
)

// Static serves the UI's CSS and JavaScript. Pages link them with their
// content hash (assetURL), so a matching request may be cached for good.
func (s *Handlers) Static(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	hash, ok := assetHashes[name]
	if !ok {
		c.String(http.StatusNotFound, "not found\n")
		return
	}
	if c.Query("v") == hash {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	c.Header("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(c.Writer, c.Request, web.FS, name)
}

// Home sends a signed-in user to the webhooks.
func (s *Handlers) Home(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/webhooks") }
