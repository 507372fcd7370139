package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// WebhookRotateSigningSecret generates a new signing secret and shows it
// this once; it is never readable again.
func (s *Handlers) WebhookRotateSigningSecret(c *gin.Context) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	secret := models.NewSigningSecret()
	if _, err := s.store.UpdateWebhook(c.Request.Context(), httpx.PanelOf(c).ID, id, &models.WebhookInput{SigningSecret: &secret}); err != nil {
		s.fail(c, httpx.WebhookErr(err))
		return
	}
	c.JSON(http.StatusOK, gin.H{"signing_secret": secret})
}
