package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// WebhookGet shows one asset of the panel.
func (s *Handlers) WebhookGet(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}
