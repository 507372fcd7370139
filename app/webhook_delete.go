package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// webhookDelete removes an asset.
func (s *Server) webhookDelete(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.DeleteWebhook(c.Request.Context(), panelOf(c).ID, id); err != nil {
		s.fail(c, webhookErr(err))
		return
	}
	c.Status(http.StatusNoContent)
}
