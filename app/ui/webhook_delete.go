package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// WebhookRemove deletes a webhook with its deliveries and log; the page
// asks for confirmation first.
func (s *Handlers) WebhookRemove(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if err := s.store.DeleteWebhook(c.Request.Context(), w.PanelID, w.ID); err != nil {
		s.FailPage(c, httpx.WebhookErr(err))
		return
	}
	s.setFlash(c, "ok", "Deleted “"+w.Label+"”.")
	c.Redirect(http.StatusSeeOther, "/webhooks")
}
