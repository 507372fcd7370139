package delivery

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// StepTest is what a journey step's test-send came to.
type StepTest struct {
	Webhook    string `json:"webhook"`
	Contact    string `json:"contact"`
	Passed     bool   `json:"passed"` // the endpoint answered 2xx
	StatusCode int    `json:"status_code"`
	LatencyMS  int    `json:"latency_ms"`
	Body       string `json:"body"` // the first 4 KiB of the response
	Error      string `json:"error"`
	ErrorClass string `json:"error_class"`
}

// SendStepTest sends a journey step's test-send (journey.Engine's
// PrepareTestSend) once, as a webhook test is sent (Sender.SendOne): a
// body template sees the real contact, hashed as the asset hashes PII,
// as a delivery's would. It records nothing: no delivery, no run, no test.
func (s *Service) SendStepTest(ctx context.Context, panel *models.Panel, t *journey.TestSend) (*StepTest, error) {
	var contact map[string]any
	if t.Spec.BodyFormat == models.BodyTemplate {
		byID, err := templateContacts(ctx, s.Store, panel.ID, &t.Spec, []int64{t.Contact.ID})
		if err != nil {
			return nil, err
		}
		contact = byID[t.Contact.ID]
	}
	res := s.Sender.SendOne(ctx, panel.Name, &t.Spec, t.Item, contact)
	s.Log.InfoContext(ctx, "journey step test-sent", "panel", panel.ID, "journey", t.JourneyID, "node", t.Node,
		"webhook_id", t.Webhook.ID, "contact_id", t.Contact.ID, "status_code", res.StatusCode, "error_class", res.ErrClass)
	return &StepTest{Webhook: t.Webhook.Label, Contact: t.Contact.Key(), StatusCode: res.StatusCode,
		LatencyMS: int(res.Latency.Milliseconds()), Body: string(res.Body), Error: res.ErrorText(), ErrorClass: res.ErrClass,
		Passed: res.Err == nil && res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusMultipleChoices}, nil
}
