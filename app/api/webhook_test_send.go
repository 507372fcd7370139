package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// WebhookTestSaved sends the sample batch to a saved asset and records the
// result; only an HTTP 200 verifies its configuration.
func (s *Handlers) WebhookTestSaved(c *gin.Context) {
	w, err := s.loadWebhook(c)
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
	c.JSON(http.StatusOK, httpx.NewTestJSON(t))
}

// WebhookTestUnsaved tests a configuration before it is saved (the UI's
// Test button). A pass lets the same configuration be saved and activated.
func (s *Handlers) WebhookTestUnsaved(c *gin.Context) {
	spec, err := decodeNewSpec(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.webhooks(c).TestUnsaved(c.Request.Context(), httpx.PanelOf(c), &spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, httpx.NewTestJSON(t))
}
