package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// WebhookDelete removes an asset.
func (s *Handlers) WebhookDelete(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.DeleteWebhook(c.Request.Context(), httpx.PanelOf(c).ID, id); err != nil {
		s.fail(c, httpx.WebhookErr(err))
		return
	}
	c.Status(http.StatusNoContent)
}
