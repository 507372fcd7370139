package httpx

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// LoadWebhook loads the webhook named by the request's :id parameter, in
// the request's panel only: another panel's webhook is "webhook not
// found", never "forbidden". For the admin API and the UI alike.
func LoadWebhook(c *gin.Context, store *models.Store) (*models.Webhook, error) {
	id, err := IDParam(c, "webhook")
	if err != nil {
		return nil, err
	}
	w, err := store.Webhook(c.Request.Context(), PanelOf(c).ID, id)
	return w, WebhookErr(err)
}

// WebhookErr words models.ErrNotFound as "webhook not found".
func WebhookErr(err error) error { return NotFoundAs(err, "webhook not found") }

// LoadJourney loads the journey named by the request's :id parameter, in
// the request's panel only, as LoadWebhook does.
func LoadJourney(c *gin.Context, store *models.Store) (*models.Journey, error) {
	id, err := IDParam(c, "journey")
	if err != nil {
		return nil, err
	}
	j, err := store.Journey(c.Request.Context(), PanelOf(c).ID, id)
	return j, NotFoundAs(err, "journey not found")
}
