package delivery

import (
	"crypto/sha256"
	"encoding/base32"

	"github.com/google/uuid"
)

// BuildBody builds the form-encoded request body data=<JSON> for as many of
// items as fit in maxBody bytes, in order, and says how many that is. Items
// are raw JSON objects, concatenated without being decoded again; escaping
// is per byte, so escaping each part and joining equals escaping the whole.
// n is 0 when even the first item alone is too large.
func BuildBody(panel string, items [][]byte, maxBody int) (body []byte, n int) {
	head := appendQueryEscape([]byte("data="), []byte(`{"`+panel+`":[`))
	tail := appendQueryEscape(nil, []byte(`]}`))
	comma := appendQueryEscape(nil, []byte(`,`))
	body = make([]byte, 0, min(maxBody, estimate(items)+len(head)+len(tail)))
	body = append(body, head...)
	for _, item := range items {
		mark := len(body)
		if n > 0 {
			body = append(body, comma...)
		}
		body = appendQueryEscape(body, item)
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
