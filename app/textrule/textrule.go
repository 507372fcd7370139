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

// Unstorable is text that breaks the rule, and where it is.
type Unstorable struct {
	// Path names the field: a JSON path (user.email, items[2].note), a
	// form field's name, or "" for the document (or form) as a whole.
	Path string
	// What says what is wrong, as in "holds a NUL character (\u0000)".
	What string
}

func (u *Unstorable) Error() string {
	if u.Path == "" {
		return u.What + ": " + Rule
	}
	return u.Path + ": " + u.What + ": " + Rule
}

// jsonFrame is an object or array open where CheckJSON is.
type jsonFrame struct {
	object  bool
	wantKey bool   // an object's next string is a key
	key     string // an object's current key
	index   int    // an array's current index
}

// CheckJSON finds the first key or string of a JSON document that
// breaks the rule. The document is expected to be well-formed; on one that
// is not it still finds what it can, and never fails otherwise.
func CheckJSON(doc []byte) *Unstorable {
	// The common case costs one pass: valid UTF-8, no 0 byte and no \u
	// escape at all.
	if utf8.Valid(doc) && bytes.IndexByte(doc, 0) < 0 && !bytes.Contains(doc, []byte(`\u`)) {
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
		}
	}
	return nil
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
