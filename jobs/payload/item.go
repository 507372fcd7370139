// Package payload is the format of a batch item, as receivers read it:
// delivery_id first, the rest as given, no HTML escaping, and personal
// data (e-mail addresses, phone numbers) hashed when the asset asks. The
// deliveries API (app) and the journey engine (package journey) write
// items with it; the sender (package delivery) only concatenates them.
// It is a leaf so both writers share it without depending on each other.
package payload

import (
	"bytes"
	"encoding/json"
)

// EncodeItem renders a batch item given as free-form fields (the deliveries
// API), with delivery_id first. A delivery_id among the fields is replaced:
// Herald owns that key, receivers rely on it. HTML characters are not
// escaped, so strings reach the receiver as they were sent.
func EncodeItem(deliveryID string, fields map[string]any) ([]byte, error) {
	delete(fields, "delivery_id")
	rest, err := MarshalPlain(fields)
	if err != nil {
		return nil, err
	}
	id, _ := MarshalPlain(deliveryID)
	out := make([]byte, 0, len(rest)+len(id)+16)
	out = append(out, `{"delivery_id":`...)
	out = append(out, id...)
	if len(rest) > 2 {
		out = append(out, ',')
	}
	return append(out, rest[1:]...), nil
}

// MarshalPlain is json.Marshal without HTML escaping.
func MarshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
