package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
)

// WebhookTestForm is the form's Test button: it sends the sample batch to
// the configuration as typed (blank secrets of a saved webhook are its
// stored ones) and answers the page's script in JSON, the API's test
// result. It is recorded as a test of an unsaved configuration, as the
// API's POST /api/v1/webhooks/test is: it lets exactly this configuration
// be saved within the hour, and leaves the saved webhook's own last test
// alone until the user saves.
func (s *Handlers) WebhookTestForm(c *gin.Context) {
	w, err := s.formWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, spec, err := s.formSpec(c, w)
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

// WebhookPreviewForm is the template editor's live preview: the body the
// form's configuration, as typed, would send for the sample event, rendered
// by the sender's own code (delivery.SamplePreview, as the API's preview).
// It answers the page's script in JSON; a template that cannot render is a
// 400 naming the line and column.
func (s *Handlers) WebhookPreviewForm(c *gin.Context) {
	w, err := s.formWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, spec, err := s.formSpec(c, w)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := delivery.SamplePreview(httpx.PanelOf(c).Name, spec, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
