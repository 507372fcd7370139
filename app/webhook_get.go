package app

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// webhookGet shows one asset of the panel.
func (s *Server) webhookGet(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondWebhook(c, http.StatusOK, w)
}
