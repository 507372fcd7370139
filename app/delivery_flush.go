package app

import (
	"time"

	"github.com/gin-gonic/gin"
)

// flush asks the worker to send a webhook's pending deliveries. A failure
// is logged, not returned: the deliveries are safe in PostgreSQL and the
// reconciler enqueues the flush that Redis could not take.
func (s *Server) flush(c *gin.Context, webhookID int64, batchWaitMS int) {
	if s.enqueuer == nil {
		return
	}
	if err := s.enqueuer.Flush(c.Request.Context(), webhookID, time.Duration(batchWaitMS)*time.Millisecond); err != nil {
		s.log.WarnContext(c.Request.Context(), "flush not enqueued; the reconciler will pick it up",
			"request_id", c.GetString(ctxRequestID), "webhook_id", webhookID, "error", err)
	}
}
