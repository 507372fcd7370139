package ui

import (
	"github.com/gin-gonic/gin"
)

// DeliveryListPart answers the rows of a webhook's delivery log, filtered
// as the page is (the same query): the page's script fetches them every
// few seconds while the page is open, so the log stays current.
func (s *Handlers) DeliveryListPart(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p := &webhookPage{Webhook: w, Tab: "deliveries", MaxAttempts: w.MaxAttempts, Range: pickRange(c.Query("range"))}
	if err := s.listDeliveries(c, p); err != nil {
		s.FailPage(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	s.renderPart(c, "webhook", "delivery_rows", p)
}
