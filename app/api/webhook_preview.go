package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/models"
)

// PreviewJSON is the body a configuration would send for the sample event,
// built by the sender's own code: what the test request carries.
type PreviewJSON struct {
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// WebhookPreview renders the sample event in the body format of an unsaved
// configuration (the create body), sending nothing: the UI's live preview
// of a template, and a way to try a template with curl. A template that
// cannot render is a 400 naming body_template, the line and the column.
func (s *Handlers) WebhookPreview(c *gin.Context) {
	spec, err := decodeNewSpec(c)
	s.Preview(c, httpx.PanelOf(c).Name, spec, err)
}

// Preview answers with the sample body of spec; err is the failure to
// read the configuration, if any.
func (s *Handlers) Preview(c *gin.Context, panel string, spec models.WebhookSpec, err error) {
	if err == nil {
		// A preview needs no URL yet; everything else must hold (the batch
		// size and body cap shape the body).
		check := spec
		if check.URL == "" {
			check.URL = "https://example.invalid/"
		}
		err = check.Validate(false)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := SamplePreview(panel, &spec, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// SamplePreview builds the sample body of a valid configuration.
func SamplePreview(panel string, spec *models.WebhookSpec, now time.Time) (PreviewJSON, error) {
	b := delivery.SampleBody(panel, spec, now.UTC())
	if b.N == 0 {
		if b.Err != nil {
			return PreviewJSON{}, httpx.BadRequest("body_template", b.Err.Error())
		}
		return PreviewJSON{}, httpx.BadRequest("max_body_bytes", "the sample event does not fit")
	}
	return PreviewJSON{ContentType: b.ContentType, Body: string(b.Bytes)}, nil
}
