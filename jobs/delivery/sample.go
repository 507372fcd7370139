package delivery

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald/models"
)

// SamplePayload is the batch a test request sends in the form format: one
// realistic event in the exact format of a real delivery, marked "test":
// true so a receiver can tell it apart.
func SamplePayload(panel, webhookName string, now time.Time) []byte {
	return []byte(`{"` + panel + `":[` + string(models.SampleItem(webhookName, now)) + `]}`)
}

// Test sends the sample event to a configuration in its body format, as the
// "Test" button and the test API do. A template that cannot render the
// sample sends nothing and fails with error class template.
func (s *Sender) Test(ctx context.Context, panel string, spec *models.WebhookSpec) Response {
	return s.SendOne(ctx, panel, spec, models.SampleItem(spec.Label, s.now()))
}

// SendOne sends one item to a webhook as a batch of one, in its body
// format, with its auth, headers and signature, through the sender's
// egress client: the sample of a test, or a journey step's test-send. It
// writes nothing: the caller records what it needs.
func (s *Sender) SendOne(ctx context.Context, panel string, spec *models.WebhookSpec, item []byte) Response {
	now := s.now()
	body := BuildFormatBody(panel, spec, [][]byte{item})
	if body.N == 0 {
		err := body.Err
		if err == nil {
			err = errSampleTooLarge
		}
		return Response{Err: err, ErrClass: errClass(body)}
	}
	return s.Send(ctx, Request{Spec: spec, MessageID: "msg_test_" + models.NewULID(now).String(),
		Body: body.Bytes, ContentType: body.ContentType})
}

var errSampleTooLarge = errors.New("the event does not fit max_body_bytes")

// errClass is the error class of a body that could not be built.
func errClass(b Body) string {
	if b.Err != nil {
		return ClassTemplate
	}
	return ClassSize
}
