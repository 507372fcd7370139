package delivery

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/models"
)

// Error classes of a delivery that never went out: its template cannot
// render its event (a value that breaks the JSON, say), or it alone is
// larger than max_body_bytes.
const (
	ClassTemplate = "template"
	ClassSize     = "size"
)

// Body is one request body in the asset's format.
type Body struct {
	Bytes       []byte
	ContentType string
	// N is how many of the items it carries, from the first; 0 when the
	// first item alone cannot be sent (Err says why, or it is too large).
	N   int
	Err error
}

// BuildFormatBody builds the body of a request in the asset's body format
// (README, "The payload a receiver gets") for as many of items as fit in
// max_body_bytes. contacts are the items' contacts for a template
// (models.TemplateVars); the other formats send the items alone.
func BuildFormatBody(panel string, spec *models.WebhookSpec, items [][]byte, contacts []map[string]any) Body {
	switch spec.BodyFormat {
	case models.BodyJSON:
		if spec.BatchSize == 1 {
			// One event per request: the event object itself.
			if len(items[0]) > spec.MaxBodyBytes {
				return Body{ContentType: models.ContentTypeJSON}
			}
			return Body{Bytes: items[0], ContentType: models.ContentTypeJSON, N: 1}
		}
		b, n := joinItems([]byte("["), items, []byte(","), []byte("]"), spec.MaxBodyBytes, nil)
		return Body{Bytes: b, ContentType: models.ContentTypeJSON, N: n}
	case models.BodyTemplate:
		return renderTemplate(panel, spec, items, contacts)
	}
	b, n := BuildBody(panel, items, spec.MaxBodyBytes)
	return Body{Bytes: b, ContentType: models.ContentTypeForm, N: n}
}

// renderTemplate renders one event, or for a template over events as many
// events as render and fit: it halves the batch until the body renders
// within its bounds and fits. A batch that does not render is halved too,
// so the event whose value breaks the template is the one that fails, and
// a loop nested over events (whose work grows with the batch) sends
// smaller batches: at most log2(batch_size) renderings fail on the way,
// each bounded by the engine's step and time budget.
func renderTemplate(panel string, spec *models.WebhookSpec, items [][]byte, contacts []map[string]any) Body {
	n := 1
	if !spec.PerEventTemplate() {
		n = len(items)
	}
	for {
		out, err := models.RenderBodyTemplate(spec.BodyTemplate, spec.TemplateType(),
			models.TemplateVars(panel, spec.Label, items[:n], contacts[:min(n, len(contacts))]))
		switch {
		case err != nil && n == 1:
			return Body{ContentType: spec.TemplateType(), Err: fmt.Errorf("the body template cannot render this event: %w", err)}
		case err == nil && len(out) <= spec.MaxBodyBytes:
			return Body{Bytes: out, ContentType: spec.TemplateType(), N: n}
		case err == nil && n == 1:
			return Body{ContentType: spec.TemplateType()}
		}
		n /= 2
	}
}

// BuildBody builds the form-encoded request body data=<JSON> for as many of
// items as fit in maxBody bytes, in order, and says how many that is. Items
// are raw JSON objects, concatenated without being decoded again; escaping
// is per byte, so escaping each part and joining equals escaping the whole.
// n is 0 when even the first item alone is too large.
func BuildBody(panel string, items [][]byte, maxBody int) (body []byte, n int) {
	head := appendQueryEscape([]byte("data="), []byte(`{"`+panel+`":[`))
	tail := appendQueryEscape(nil, []byte(`]}`))
	comma := appendQueryEscape(nil, []byte(`,`))
	return joinItems(head, items, comma, tail, maxBody, appendQueryEscape)
}

// joinItems writes head, the items separated by sep, and tail, for as
// many items as fit in maxBody; escape (nil: none) encodes each item.
func joinItems(head []byte, items [][]byte, sep, tail []byte, maxBody int, escape func(dst, src []byte) []byte) (body []byte, n int) {
	body = make([]byte, 0, min(maxBody, estimate(items)+len(head)+len(tail)))
	body = append(body, head...)
	for _, item := range items {
		mark := len(body)
		if n > 0 {
			body = append(body, sep...)
		}
		if escape != nil {
			body = escape(body, item)
		} else {
			body = append(body, item...)
		}
		if len(body)+len(tail) > maxBody {
			body = body[:mark]
			break
		}
		n++
	}
	if n == 0 {
		return nil, 0
	}
	return append(body, tail...), n
}

func estimate(items [][]byte) int {
	total := 0
	for _, it := range items {
		total += len(it) * 3 / 2 // JSON punctuation escapes to three bytes
	}
	return total
}

// appendQueryEscape appends src escaped as url.QueryEscape does, without
// the string round trips.
func appendQueryEscape(dst, src []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range src {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// BatchID names a batch by its deliveries: a retry of the same deliveries
// carries the same webhook-id, as Standard Webhooks asks.
func BatchID(ids []uuid.UUID) string {
	h := sha256.New()
	for _, id := range ids {
		h.Write(id[:])
	}
	return "msg_" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil))[:26]
}
