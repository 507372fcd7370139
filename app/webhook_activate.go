package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// webhookActivate puts an asset in service and sends what it held; 409
// unless its current configuration passed a test.
func (s *Server) webhookActivate(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.webhooks(c).Activate(c.Request.Context(), panelOf(c).ID, id)
	if err != nil {
		s.fail(c, webhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}

// webhookDeactivate takes an asset out of service.
func (s *Server) webhookDeactivate(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.store.DeactivateWebhook(c.Request.Context(), panelOf(c).ID, id)
	if err != nil {
		s.fail(c, webhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}
