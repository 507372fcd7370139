package api

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// loadWebhook loads the webhook named by :id, in the caller's panel only
// (httpx.LoadWebhook).
func (s *Handlers) loadWebhook(c *gin.Context) (*models.Webhook, error) {
	return httpx.LoadWebhook(c, s.store)
}

// loadJourney loads the journey named by :id, in the caller's panel only
// (httpx.LoadJourney).
func (s *Handlers) loadJourney(c *gin.Context) (*models.Journey, error) {
	return httpx.LoadJourney(c, s.store)
}

// respondWebhook answers with one asset and its latest test.
func (s *Handlers) respondWebhook(c *gin.Context, status int, w *models.Webhook) {
	out, err := s.presentOne(c.Request.Context(), w)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, out)
}
