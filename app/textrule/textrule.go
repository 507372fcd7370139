// Package textrule is Herald's one rule for text, on every route (see
// README, "Security model"): text PostgreSQL cannot store is refused with
// a 400 that names the field. PostgreSQL's text and jsonb hold UTF-8 without NUL, so that
// is NUL (an escaped \u0000 or a 0 byte), bytes that are not UTF-8, and a
// UTF-16 surrogate escape (\ud800-\udfff) that is not half of a pair, in
// any JSON key or string at any depth and in any form or query field.
// Nothing is repaired: Go's decoder would silently turn bad UTF-8 and lone
// surrogates into U+FFFD, while a document stored verbatim (jsonb) would
// fail at insert, so both are refused before either can happen.
//
// JSON numbers have a rule of their own (NumberRule): an exponent of at
// most 1000, as jsonb writes a number out digit by digit on every read.
//
// The rule is pure and lives apart from the middleware that applies it
// (app, text_rule.go) so that the ingest parser (app/ingest) and the JSON
// decoding of every audience check text the same way.
package textrule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rule is the rule in a sentence, for error messages.
const Rule = "text must be UTF-8 without NUL characters or unpaired UTF-16 surrogates"

// NumberRule is the rule for JSON numbers, which jsonb keeps as numeric:
// 1e131000 is a few bytes to send and to store, but PostgreSQL writes it
// out as 131,001 digits on every read, so a 3 KB event made a contact of
// 26 MB that every later event, page and template read again.
const NumberRule = "a number's exponent may be at most 1000 (1e1000 is written out as 1,001 digits)"

// maxExponent bounds a JSON number's exponent (NumberRule).
const maxExponent = 1000

// Unstorable is text that breaks the rule, and where it is.
type Unstorable struct {
	// Path names the field: a JSON path (user.email, items[2].note), a
	// form field's name, or "" for the document (or form) as a whole.
	Path string
	// What says what is wrong, as in "holds a NUL character (\u0000)".
	What string
	// Number: a number breaks NumberRule, rather than text Rule.
	Number bool
}

// Message is what is wrong and the rule it breaks, without the path.
func (u *Unstorable) Message() string {
	if u.Number {
		return u.What + ": " + NumberRule
	}
	return u.What + ": " + Rule
}

func (u *Unstorable) Error() string {
	if u.Path == "" {
		return u.Message()
	}
	return u.Path + ": " + u.Message()
}

// jsonFrame is an object or array open where CheckJSON is.
type jsonFrame struct {
	object  bool
	wantKey bool   // an object's next string is a key
	key     string // an object's current key
	index   int    // an array's current index
}

// CheckJSON finds the first key or string of a JSON document that
// breaks the rule, or the first number that breaks NumberRule. The
// document is expected to be well-formed; on one that is not it still
// finds what it can, and never fails otherwise.
func CheckJSON(doc []byte) *Unstorable {
	// The common case costs a few quick passes: valid UTF-8, no 0 byte, no
	// \u escape, and no exponent over the bound. The walk below, which
	// names the field, runs only when something is wrong (or an escape
	// needs a closer look).
	if utf8.Valid(doc) && bytes.IndexByte(doc, 0) < 0 && !bytes.Contains(doc, []byte(`\u`)) && !holdsLargeExponent(doc) {
		return nil
	}
	var stack []jsonFrame
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '{':
			stack = append(stack, jsonFrame{object: true, wantKey: true})
		case '[':
			stack = append(stack, jsonFrame{})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].object {
					stack[n-1].wantKey = true
				} else {
					stack[n-1].index++
				}
			}
		case '"':
			end, what := scanJSONString(doc, i)
			n := len(stack)
			isKey := n > 0 && stack[n-1].object && stack[n-1].wantKey
			switch {
			case what != "" && isKey:
				// The key names no field yet: the object it is in is named.
				return &Unstorable{Path: jsonPath(stack[:n-1]), What: "has a key that " + what}
			case what != "":
				return &Unstorable{Path: jsonPath(stack), What: what}
			case isKey:
				var key string
				_ = json.Unmarshal(doc[i:min(end+1, len(doc))], &key) // the key broke no rule
				stack[n-1].key, stack[n-1].wantKey = key, false
			}
			i = end
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			end := numberEnd(doc, i)
			if exponentTooLarge(doc[i:end]) {
				return &Unstorable{Path: jsonPath(stack), What: "is a number with an exponent over 1000", Number: true}
			}
			i = end - 1
		}
	}
	return nil
}

// holdsLargeExponent reports whether a number of doc, outside its
// strings, breaks NumberRule. Most documents have no digit followed by an
// e at all and cost one pass.
func holdsLargeExponent(doc []byte) bool {
	maybe := false
	for i := 1; i < len(doc) && !maybe; i++ {
		maybe = doc[i]|0x20 == 'e' && (doc[i-1] >= '0' && doc[i-1] <= '9' || doc[i-1] == '.')
	}
	if !maybe {
		return false
	}
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case c == '"':
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
		case c == '-' || c >= '0' && c <= '9':
			end := numberEnd(doc, i)
			if exponentTooLarge(doc[i:end]) {
				return true
			}
			i = end - 1
		}
	}
	return false
}

// numberEnd is where the number that starts at doc[start] ends.
func numberEnd(doc []byte, start int) int {
	end := start
	for end < len(doc) && strings.IndexByte("0123456789+-.eE", doc[end]) >= 0 {
		end++
	}
	return end
}

// exponentTooLarge reports whether a JSON number's exponent is over
// maxExponent either way (1e-2000 is written out with 2,000 zeros).
func exponentTooLarge(num []byte) bool {
	at := bytes.IndexAny(num, "eE")
	if at < 0 {
		return false
	}
	exp := bytes.TrimLeft(num[at+1:], "+-")
	exp = bytes.TrimLeft(exp, "0")
	if len(exp) > 4 {
		return true
	}
	n, err := strconv.Atoi(string(exp))
	return err == nil && n > maxExponent
}

// jsonPath names where the frames lead: keys joined by dots, indexes in
// brackets (a.b[2].c).
func jsonPath(frames []jsonFrame) string {
	var b strings.Builder
	for _, f := range frames {
		switch {
		case !f.object:
			fmt.Fprintf(&b, "[%d]", f.index)
		case b.Len() > 0:
			b.WriteString("." + f.key)
		default:
			b.WriteString(f.key)
		}
	}
	return b.String()
}

// scanJSONString reads the string that starts with the quote at doc[start]
// and returns the index of its closing quote (or len(doc) when there is
// none) and what breaks the rule in it, if anything.
func scanJSONString(doc []byte, start int) (end int, what string) {
	for j := start + 1; j < len(doc); {
		switch c := doc[j]; {
		case c == '"':
			return j, ""
		case c == 0:
			return j, "holds a NUL character"
		case c == '\\' && j+1 < len(doc) && doc[j+1] == 'u':
			r, ok := hex4(doc, j+2)
			switch {
			case !ok:
				j += 2 // malformed: the decoder says so
			case r == 0:
				return j, `holds a NUL character (\u0000)`
			case r >= 0xD800 && r < 0xDC00:
				if low, ok := hex4(doc, j+8); ok && doc[j+6] == '\\' && doc[j+7] == 'u' && low >= 0xDC00 && low <= 0xDFFF {
					j += 12 // a pair: one character beyond U+FFFF
					continue
				}
				return j, fmt.Sprintf(`holds an unpaired UTF-16 surrogate (\u%04x)`, r)
			case r >= 0xDC00 && r <= 0xDFFF:
				return j, fmt.Sprintf(`holds an unpaired UTF-16 surrogate (\u%04x)`, r)
			default:
				j += 6
			}
		case c == '\\':
			j += 2
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(doc[j:])
			if r == utf8.RuneError && size == 1 {
				return j, "holds bytes that are not UTF-8"
			}
			j += size
		}
	}
	return len(doc), ""
}

// hex4 reads the four hex digits of a \u escape at doc[at:].
func hex4(doc []byte, at int) (rune, bool) {
	if at+4 > len(doc) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(doc[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// Problem says how s breaks the rule ("holds a NUL character"), or ""
// when it does not: for text that comes neither as JSON nor as a form (an
// uploaded file's).
func Problem(s string) string { return checkText(s) }

// checkText reports whether s breaks the rule, and how.
func checkText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "holds a NUL character"
	case !utf8.ValidString(s):
		// Go's UTF-8 has no surrogates: a lone one, encoded, is caught here.
		return "holds bytes that are not UTF-8"
	}
	return ""
}

// CheckForm finds the first field of a form (or query string) whose
// name or a value breaks the rule; fields are looked at in name order, so
// the same form always gets the same answer.
func CheckForm(form url.Values) *Unstorable {
	var bad *Unstorable
	for name, values := range form {
		var found *Unstorable
		if what := checkText(name); what != "" {
			found = &Unstorable{What: "has a field name that " + what}
		}
		for _, v := range values {
			if what := checkText(v); what != "" && found == nil {
				found = &Unstorable{Path: name, What: what}
			}
		}
		if found != nil && (bad == nil || found.Path < bad.Path) {
			bad = found
		}
	}
	return bad
}
