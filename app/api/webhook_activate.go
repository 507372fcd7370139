package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// WebhookActivate puts an asset in service and sends what it held; 409
// unless its current configuration passed a test.
func (s *Handlers) WebhookActivate(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.webhooks(c).Activate(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.fail(c, httpx.WebhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}

// WebhookDeactivate takes an asset out of service.
func (s *Handlers) WebhookDeactivate(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.store.DeactivateWebhook(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.fail(c, httpx.WebhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}
