package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
)

// WebhookPreview renders the sample event in the body format of an unsaved
// configuration (the create body), sending nothing: the UI's live preview
// of a template, and a way to try a template with curl. A template that
// cannot render is a 400 naming body_template, the line and the column.
func (s *Handlers) WebhookPreview(c *gin.Context) {
	spec, err := decodeNewSpec(c)
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
