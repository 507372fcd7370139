package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// WebhookCreate stores a new asset. It starts untested: it sends nothing
// until a test passes and it is activated.
func (s *Handlers) WebhookCreate(c *gin.Context) {
	spec, err := decodeNewSpec(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	w, err := s.store.CreateWebhook(c.Request.Context(), httpx.PanelOf(c).ID, spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.presentWebhook(w, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

// decodeNewSpec reads a create (or unsaved test) body onto the defaults.
func decodeNewSpec(c *gin.Context) (models.WebhookSpec, error) {
	spec := models.DefaultWebhookSpec()
	in, err := decodeWebhookInput(c)
	if err != nil {
		return spec, err
	}
	return spec, in.Apply(&spec)
}

// decodeWebhookInput reads a webhook body and checks the parts the models
// package cannot: the failure tracker's thresholds.
func decodeWebhookInput(c *gin.Context) (*models.WebhookInput, error) {
	var in models.WebhookInput
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return nil, err
	}
	if in.HealthSettings != nil {
		raw, err := health.ParseThresholds("health_settings", *in.HealthSettings)
		if err != nil {
			return nil, err
		}
		in.HealthSettings = &raw
	}
	return &in, nil
}
