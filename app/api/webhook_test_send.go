package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// WebhookTestSaved sends the sample batch to a saved asset and records the
// result; only an HTTP 200 verifies its configuration.
func (s *Handlers) WebhookTestSaved(c *gin.Context) {
	w, err := s.LoadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	spec, err := s.store.Spec(w)
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.webhooks(c).Test(c.Request.Context(), httpx.PanelOf(c), &w.ID, &spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newTestJSON(t))
}

// WebhookTestUnsaved tests a configuration before it is saved (the UI's
// Test button). A pass lets the same configuration be saved and activated.
func (s *Handlers) WebhookTestUnsaved(c *gin.Context) {
	spec, err := decodeNewSpec(c)
	s.TestUnsaved(c, spec, err)
}

// TestUnsaved tests a configuration that is not saved (or not as it
// stands) and answers with the result in JSON; err is the failure to read
// the configuration, if any.
func (s *Handlers) TestUnsaved(c *gin.Context, spec models.WebhookSpec, err error) {
	if err == nil {
		err = spec.Validate(false)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.webhooks(c).Test(c.Request.Context(), httpx.PanelOf(c), nil, &spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newTestJSON(t))
}
