package app

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/delivery"
)

// webhooks is the delivery service for this request: what it logs (a
// flush Redis could not take) carries the request's id.
func (s *Server) webhooks(c *gin.Context) *delivery.Service {
	return s.outbox.WithLog(s.log.With("request_id", c.GetString(ctxRequestID)))
}
