package delivery

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// SamplePayload is the batch a test request sends: one realistic event in
// the exact format of a real delivery, marked "test": true so a receiver can
// tell it apart.
func SamplePayload(panel, webhookName string, now time.Time) []byte {
	if webhookName == "" {
		webhookName = "Untitled webhook"
	}
	now = now.UTC()
	item := journey.Item{
		DeliveryID:  "dlv_test_" + models.NewULID(now).String(),
		Test:        true,
		WebhookName: webhookName,
		MsgID:       "546",
		Channel:     "email",
		Event:       "open",
		JourneyName: "Herald test",
		EventParams: map[string]any{
			"ip_addr":    "106.51.148.72",
			"email":      "test.user@example.com",
			"timestamp":  now.Format("2006-01-02T15:04:05"),
			"ts":         journey.TS(now),
			"foreignkey": "test.user@example.com",
		},
		CustomParams:  map[string]any{"Action": "Herald test"},
		AttParams:     map[string]any{"EMAIL": "test.user@example.com", "FIRSTNAME": "Test", "CITY": "Pune"},
		PayloadParams: map[string]any{},
	}
	b, _ := json.Marshal(map[string][]journey.Item{panel: {item}})
	return b
}

// Test sends the sample batch to a configuration, as the "Test" button and
// the test API do.
func (s *Sender) Test(ctx context.Context, panel string, spec *models.WebhookSpec) Response {
	now := s.now()
	return s.Send(ctx, Request{Spec: spec, MessageID: "msg_test_" + models.NewULID(now).String(), Body: FormBody(SamplePayload(panel, spec.Label, now))})
}
