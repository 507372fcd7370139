package app

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// webhookRemove deletes a webhook with its deliveries and log; the page
// asks for confirmation first.
func (s *Server) webhookRemove(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.failPage(c, err)
		return
	}
	if err := s.store.DeleteWebhook(c.Request.Context(), w.PanelID, w.ID); err != nil {
		s.failPage(c, webhookErr(err))
		return
	}
	s.setFlash(c, "ok", "Deleted “"+w.Label+"”.")
	c.Redirect(http.StatusSeeOther, "/webhooks")
}
