package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// webhookActivate puts an asset in service and sends what it held; 409
// unless its current configuration passed a test.
func (s *Server) webhookActivate(c *gin.Context) {
	id, err := idParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.activate(c, panelOf(c).ID, id)
	if err != nil {
		s.fail(c, webhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}

// activate puts a webhook in service and flushes the deliveries it held.
// Re-enabling an endpoint the failure tracker disabled resets its health
// and tells the alert recipients; the webhook returned shows that.
func (s *Server) activate(c *gin.Context, panelID, id int64) (*models.Webhook, error) {
	ctx := c.Request.Context()
	before, err := s.store.Webhook(ctx, panelID, id)
	if err != nil {
		return nil, err
	}
	w, released, err := s.store.ActivateWebhook(ctx, panelID, id)
	if err != nil {
		return nil, err
	}
	if s.tracker != nil && s.tracker.Reenabled(ctx, before, released) {
		if w, err = s.store.Webhook(ctx, panelID, id); err != nil {
			return nil, err
		}
	}
	if released > 0 {
		s.flush(c, w.ID, 0)
	}
	return w, nil
}

// webhookDeactivate takes an asset out of service.
func (s *Server) webhookDeactivate(c *gin.Context) {
	id, err := idParam(c, "webhook")
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
