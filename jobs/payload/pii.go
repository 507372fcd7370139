package payload

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// piiKeys are the keys whose values are personal contact data, compared
// without case, with the kind of data each holds.
var piiKeys = map[string]string{
	"email": "email", "e-mail": "email", "email_address": "email",
	"phone": "phone", "mobile": "phone", "msisdn": "phone", "phone_number": "phone",
	// Names too, as ad platforms match them: first_name is how events and
	// items say it, FIRSTNAME how contact attributes do.
	"first_name": "name", "firstname": "name", "last_name": "name", "lastname": "name",
}

// HashedFields lists the keys whose values HashPII hashes (compared without
// case), for the asset to show; any string that is an e-mail address is
// hashed besides.
func HashedFields() []string {
	return slices.Sorted(maps.Keys(piiKeys))
}

// HashPII returns a copy of a batch item's value with e-mail addresses,
// phone numbers and names replaced by the SHA-256 hex of their normalised
// form (e-mail and names: trimmed, lower-case; phone: digits with a
// leading +), wherever they sit in the item: under a key of HashedFields
// such as email, EMAIL, mobile, phone, first_name or FIRSTNAME (a phone
// given as a JSON number too, and every value of a list or object held
// under such a key: "phone": ["+1 555", 919800000000]), or as any string
// that is an e-mail address (foreignkey often is, and so are lists of
// recipients). Receivers can still match records by hashing their own
// copy the same way.
//
// It never changes v: an item's maps share their nested values with the
// event, the contact, the journey's definition and the other items made
// from them. Hashed in place, a webhook without hash_pii got values
// another webhook had hashed, a run's saved state kept them hashed, and a
// second webhook step hashed them again.
func HashPII(v any) any {
	return hashField("", v)
}

// HashPIIMap is HashPII of an item's map of parameters.
func HashPIIMap(m map[string]any) map[string]any {
	return HashPII(m).(map[string]any)
}

// hashField hashes one value held under a key of this kind ("" for none).
// The values of a list or an object under a key of some kind are of that
// kind too, unless a key of the object names another.
func hashField(kind string, val any) any {
	switch v := val.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, val := range v {
			out[k] = hashField(cmp.Or(piiKeys[strings.ToLower(k)], kind), val)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, val := range v {
			out[i] = hashField(kind, val)
		}
		return out
	case string:
		// An e-mail address is hashed as one under any key: under a phone
		// key, phone digits would leave nothing of it.
		switch {
		case kind == "email" || kind == "name" || looksLikeEmail(v):
			return hashValue(strings.ToLower(strings.TrimSpace(v)))
		case kind == "phone":
			return hashValue(normalisePhone(v))
		}
		return v
	case json.Number:
		if kind == "phone" { // 919800000000, sent as a number
			return hashValue(normalisePhone(integerText(v)))
		}
		return v
	case float64:
		if kind == "phone" {
			return hashValue(normalisePhone(strconv.FormatFloat(v, 'f', -1, 64)))
		}
		return v
	}
	return val
}

// integerText is a JSON number's digits as an integer when it is one,
// however it was written (9.198e11 and 919800000000.0 are 919800000000):
// a receiver hashes the phone number, not the sender's notation. A phone
// number has at most 15 digits, which a float64 holds exactly; any other
// number keeps its text.
func integerText(n json.Number) string {
	if f, err := strconv.ParseFloat(n.String(), 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return n.String()
}

func hashValue(s string) string {
	if s == "" {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func normalisePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func looksLikeEmail(s string) bool {
	s = strings.TrimSpace(s)
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.IndexByte(s[at:], '.') > 0 && !strings.ContainsAny(s, " \t\n<>")
}
