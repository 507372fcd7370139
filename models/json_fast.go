package models

import (
	"encoding/json"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeObjectFast decodes a JSON object into a map as DecodeExact does
// (numbers as json.Number), in one pass and without reflection: processing
// decodes every claimed event's properties and every locked contact's
// attributes, and encoding/json's decoder, which scans a value twice and
// sets it through reflection, was a sixth of Herald's CPU under load. It
// reports false, having decoded nothing into *m, for anything it does not
// handle exactly as encoding/json would (a value that is not an object or
// null, invalid UTF-8, a lone surrogate escape, bad syntax, data after the
// value), and the caller decodes with encoding/json instead: what
// PostgreSQL writes out of a jsonb column always takes the fast path.
func decodeObjectFast(raw []byte, m *map[string]any) bool {
	// The document is copied to a string once: its keys, plain strings and
	// numbers are slices of that copy rather than an allocation each.
	d := fastDecoder{buf: raw, text: string(raw), depth: 1} // the object itself is the first level
	d.space()
	if d.literal("null") {
		d.space()
		if d.i != len(d.buf) {
			return false
		}
		*m = nil
		return true
	}
	if d.i >= len(d.buf) || d.buf[d.i] != '{' {
		return false
	}
	v, ok := d.object()
	if !ok {
		return false
	}
	d.space()
	if d.i != len(d.buf) {
		return false
	}
	if *m == nil {
		*m = v
		return true
	}
	for k, x := range v { // encoding/json decodes into the map it is given
		(*m)[k] = x
	}
	return true
}

// fastDecoder walks one JSON text; ok false means "not handled here".
type fastDecoder struct {
	buf   []byte
	text  string // buf as a string
	i     int
	depth int
}

// maxFastDepth is encoding/json's bound on nesting, past which it fails.
const maxFastDepth = 10000

func (d *fastDecoder) space() {
	for d.i < len(d.buf) {
		switch d.buf[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) literal(s string) bool {
	if len(d.buf)-d.i >= len(s) && string(d.buf[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

func (d *fastDecoder) value() (any, bool) {
	if d.i >= len(d.buf) {
		return nil, false
	}
	switch c := d.buf[d.i]; {
	case c == '{' || c == '[':
		if d.depth++; d.depth > maxFastDepth {
			return nil, false
		}
		defer func() { d.depth-- }()
		if c == '{' {
			return d.object()
		}
		return d.array()
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case d.literal("true"):
		return true, true
	case d.literal("false"):
		return false, true
	case d.literal("null"):
		return nil, true
	}
	return nil, false
}

func (d *fastDecoder) object() (map[string]any, bool) {
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.buf) && d.buf[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		if d.i >= len(d.buf) || d.buf[d.i] != '"' {
			return nil, false
		}
		k, ok := d.string()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.buf) || d.buf[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k.(string)] = v
		if end, ok := d.separator('}'); !ok || end {
			return m, ok
		}
	}
}

func (d *fastDecoder) array() (any, bool) {
	d.i++ // [
	a := []any{}
	d.space()
	if d.i < len(d.buf) && d.buf[d.i] == ']' {
		d.i++
		return a, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if end, ok := d.separator(']'); !ok || end {
			return a, ok
		}
	}
}

// separator reads what follows a member of an object or array: a comma
// (another member comes) or the closing bracket (end).
func (d *fastDecoder) separator(closing byte) (end, ok bool) {
	d.space()
	if d.i >= len(d.buf) {
		return false, false
	}
	switch d.buf[d.i] {
	case ',':
		d.i++
		d.space()
		return false, true
	case closing:
		d.i++
		return true, true
	}
	return false, false
}

// string reads a quoted string. Text without escapes is copied once; with
// escapes it is unescaped as encoding/json does, except for a surrogate
// escape that is not half of a pair, which is left to encoding/json.
func (d *fastDecoder) string() (any, bool) {
	start := d.i + 1
	plain := true
	ascii := true
	j := start
	for ; j < len(d.buf); j++ {
		c := d.buf[j]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return nil, false
		}
		if c == '\\' {
			plain = false
			j++ // the escaped character cannot end the string
			continue
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if j >= len(d.buf) {
		return nil, false
	}
	text := d.buf[start:j]
	d.i = j + 1
	if !ascii && !utf8.Valid(text) {
		return nil, false // encoding/json replaces the bad bytes
	}
	if plain {
		return d.text[start:j], true
	}
	out := make([]byte, 0, len(text))
	for k := 0; k < len(text); k++ {
		c := text[k]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		k++
		if k >= len(text) {
			return nil, false
		}
		switch text[k] {
		case '"', '\\', '/':
			out = append(out, text[k])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(text[k+1:])
			if !ok {
				return nil, false
			}
			k += 4
			if utf16.IsSurrogate(r) {
				if len(text) < k+7 || text[k+1] != '\\' || text[k+2] != 'u' {
					return nil, false
				}
				r2, ok := hex4(text[k+3:])
				if !ok {
					return nil, false
				}
				pair := utf16.DecodeRune(r, r2)
				if pair == utf8.RuneError {
					return nil, false
				}
				r = pair
				k += 6
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(n), err == nil
}

// number reads a number as its literal, checked against JSON's grammar.
func (d *fastDecoder) number() (any, bool) {
	start := d.i
	b := d.buf
	i := d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return json.Number(d.text[start:i]), true
}
