package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// webhookUpdate changes an asset. Absent fields stay as they are; a changed
// URL, method, auth or header set makes the asset untested.
func (s *Server) webhookUpdate(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	in, err := decodeWebhookInput(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.store.UpdateWebhook(c.Request.Context(), panelOf(c).ID, id, in)
	if err != nil {
		s.fail(c, webhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}
