package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// WebhookUpdate changes an asset. Absent fields stay as they are; a changed
// URL, method, auth or header set makes the asset untested.
func (s *Handlers) WebhookUpdate(c *gin.Context) {
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
	w, err := s.store.UpdateWebhook(c.Request.Context(), httpx.PanelOf(c).ID, id, in)
	if err != nil {
		s.fail(c, httpx.WebhookErr(err))
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}
