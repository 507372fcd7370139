package app

import (
	"context"
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
	t, err := s.runTest(c.Request.Context(), panelOf(c), &w.ID, &spec)
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
	t, err := s.runTest(c.Request.Context(), panelOf(c), nil, &spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newTestJSON(t))
}

// runTest sends the sample batch and records the outcome under the
// configuration's fingerprint.
func (s *Server) runTest(ctx context.Context, panel *models.Panel, webhookID *int64, spec *models.WebhookSpec) (*models.WebhookTest, error) {
	res := s.sender.Test(ctx, panel.Name, spec)
	t := &models.WebhookTest{
		PanelID:      panel.ID,
		WebhookID:    webhookID,
		ConfigFP:     s.store.ConfigFingerprint(spec),
		URL:          spec.URL,
		Passed:       res.Err == nil && res.StatusCode == http.StatusOK, // exactly 200: the rule of the product
		StatusCode:   res.StatusCode,
		LatencyMS:    int(res.Latency.Milliseconds()),
		ResponseBody: string(res.Body),
		Error:        res.ErrorText(),
		ErrorClass:   res.ErrClass,
	}
	if err := s.store.RecordTest(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}
