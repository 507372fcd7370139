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

// SampleBody is the body of the sample event, and its contact (with some
// attributes, for a template), in the asset's format.
func SampleBody(panel string, spec *models.WebhookSpec, now time.Time) Body {
	return BuildFormatBody(panel, spec, [][]byte{models.SampleItem(spec.Label, now)}, []map[string]any{models.SampleContact()})
}

// Test sends the sample event to a configuration in its body format, as the
// "Test" button and the test API do. A template that cannot render the
// sample sends nothing and fails with error class template.
func (s *Sender) Test(ctx context.Context, panel string, spec *models.WebhookSpec) Response {
	return s.SendOne(ctx, panel, spec, models.SampleItem(spec.Label, s.now()), models.SampleContact())
}

// SendOne sends one item to a webhook as a batch of one, in its body
// format, with its auth, headers and signature, through the sender's
// egress client: the sample of a test, or a journey step's test-send.
// contact is what a body template sees as the item's contact (the sample
// contact, or the real one's attributes, hashed as the asset asks). It
// writes nothing: the caller records what it needs.
func (s *Sender) SendOne(ctx context.Context, panel string, spec *models.WebhookSpec, item []byte, contact map[string]any) Response {
	now := s.now()
	body := BuildFormatBody(panel, spec, [][]byte{item}, []map[string]any{contact})
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

// Preview is the body a configuration would send for the sample event,
// built by the sender's own code: what the test request carries.
type Preview struct {
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
}

// SamplePreview checks spec and builds its sample body for panel, sending
// nothing: the admin API's preview and the UI's live preview of a
// template. A preview needs no URL yet; everything else must hold (the
// batch size and body cap shape the body). A template that cannot render
// is a ValidationError on body_template naming the line and column.
func SamplePreview(panel string, spec models.WebhookSpec, now time.Time) (Preview, error) {
	check := spec
	if check.URL == "" {
		check.URL = "https://example.invalid/"
	}
	if err := check.Validate(false); err != nil {
		return Preview{}, err
	}
	b := SampleBody(panel, &spec, now.UTC())
	if b.N == 0 {
		if b.Err != nil {
			return Preview{}, &models.ValidationError{Field: "body_template", Message: b.Err.Error()}
		}
		return Preview{}, &models.ValidationError{Field: "max_body_bytes", Message: "the sample event does not fit"}
	}
	return Preview{ContentType: b.ContentType, Body: string(b.Bytes)}, nil
}

var errSampleTooLarge = errors.New("the event does not fit max_body_bytes")

// errClass is the error class of a body that could not be built.
func errClass(b Body) string {
	if b.Err != nil {
		return ClassTemplate
	}
	return ClassSize
}
