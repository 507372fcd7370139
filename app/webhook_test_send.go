package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// webhookTestSaved sends the sample batch to a saved asset and records the
// result; only an HTTP 200 verifies its configuration.
func (s *Server) webhookTestSaved(c *gin.Context) {
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
	t, err := s.webhooks(c).Test(c.Request.Context(), panelOf(c), &w.ID, &spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newTestJSON(t))
}

// webhookTestUnsaved tests a configuration before it is saved (the UI's
// Test button). A pass lets the same configuration be saved and activated.
func (s *Server) webhookTestUnsaved(c *gin.Context) {
	spec, err := decodeNewSpec(c)
	s.testUnsaved(c, spec, err)
}

// testUnsaved tests a configuration that is not saved (or not as it
// stands) and answers with the result in JSON; err is the failure to read
// the configuration, if any.
func (s *Server) testUnsaved(c *gin.Context, spec models.WebhookSpec, err error) {
	if err == nil {
		err = spec.Validate(false)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	t, err := s.webhooks(c).Test(c.Request.Context(), panelOf(c), nil, &spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newTestJSON(t))
}
