package api

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

var errWebhookNotFound = httpx.NotFound("webhook not found")

// LoadWebhook loads the asset named by the :id parameter, in the caller's
// panel only; another panel's asset is "not found", never "forbidden".
func (s *Handlers) LoadWebhook(c *gin.Context) (*models.Webhook, error) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		return nil, err
	}
	w, err := s.store.Webhook(c.Request.Context(), httpx.PanelOf(c).ID, id)
	return w, WebhookErr(err)
}

// WebhookErr words "not found" for a webhook.
func WebhookErr(err error) error { return httpx.NotFoundAs(err, errWebhookNotFound.Error()) }

// respondWebhook answers with one asset and its latest test.
func (s *Handlers) respondWebhook(c *gin.Context, status int, w *models.Webhook) {
	out, err := s.presentOne(c.Request.Context(), w)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, out)
}
