package payload

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
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

// HashPII replaces e-mail addresses, phone numbers and names in a batch item
// with the SHA-256 hex of their normalised form (e-mail and names: trimmed,
// lower-case; phone: digits with a leading +), wherever they sit in the
// item: under a key of HashedFields such as email, EMAIL, mobile, phone,
// first_name or FIRSTNAME, or as any string that is an e-mail address
// (foreignkey often is, and so are lists of recipients). Receivers can still
// match records by hashing their own copy the same way.
func HashPII(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok {
				switch kind := piiKeys[strings.ToLower(k)]; {
				case kind == "phone":
					t[k] = hashValue(normalisePhone(s))
				case kind == "email" || kind == "name" || looksLikeEmail(s):
					t[k] = hashValue(strings.ToLower(strings.TrimSpace(s)))
				}
				continue
			}
			t[k] = HashPII(val)
		}
	case []any:
		for i := range t {
			if s, ok := t[i].(string); ok && looksLikeEmail(s) {
				t[i] = hashValue(strings.ToLower(strings.TrimSpace(s)))
				continue
			}
			t[i] = HashPII(t[i])
		}
	}
	return v
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
