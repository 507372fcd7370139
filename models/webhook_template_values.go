package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osteele/liquid/render"
	"github.com/osteele/liquid/values"
	"github.com/osteele/tuesday"
)

// What a template holds in memory is bounded too, not only what it writes
// out: without a loop, `{% assign a = a | append: a %}` doubles a string
// each time it is typed, `{% capture %}` does the same, and one chain of
// replace, join or json filters multiplies its input. A rendering runs in
// the process that serves every panel (a save renders the sample), so a
// few hundred bytes of template could take that process's memory.
//
// So the filters that can grow a value refuse a result larger than
// maxRenderBytes before building it, split and concat refuse more than
// maxListItems items, what each assign stores is charged to the
// rendering's budget (renderBudget.bytes, through the stored node
// instrumentLoops puts after it), so all the values one rendering stores
// add up to at most maxRenderBytes, and capture is refused
// (checkNoCapture): its text is rendered into memory the engine does not
// let us bound.
const maxListItems = 100_000

var (
	errValueTooLarge = fmt.Errorf("a value grows past %d bytes (append, replace, join, json, escape or the like): build less", maxRenderBytes)
	errListTooLong   = fmt.Errorf("a list grows past %d items", maxListItems)
	errStoredTooMuch = fmt.Errorf("the values assigned grow past %d bytes in all", maxRenderBytes)
	errCapture       = errors.New("capture is not supported (it builds text without bound): use assign")
)

// boundValues replaces the growing filters of e (through addFilter) with
// bounded ones.
func boundValues(addFilter func(name string, fn any)) {
	fits := func(n int) error {
		if n > maxRenderBytes {
			return errValueTooLarge
		}
		return nil
	}
	addFilter("append", func(s, suffix string) (string, error) {
		if err := fits(len(s) + len(suffix)); err != nil {
			return "", err
		}
		return s + suffix, nil
	})
	addFilter("prepend", func(s, prefix string) (string, error) {
		if err := fits(len(s) + len(prefix)); err != nil {
			return "", err
		}
		return prefix + s, nil
	})
	replaced := func(s, old, repl string, n int) (string, error) {
		count := strings.Count(s, old)
		if old == "" {
			count = utf8.RuneCountInString(s) + 1
		}
		if n >= 0 {
			count = min(count, n)
		}
		if err := fits(len(s) + count*(len(repl)-len(old))); err != nil {
			return "", err
		}
		return strings.Replace(s, old, repl, n), nil
	}
	addFilter("replace", func(s, old, repl string) (string, error) { return replaced(s, old, repl, -1) })
	addFilter("replace_first", func(s, old, repl string) (string, error) { return replaced(s, old, repl, 1) })
	addFilter("join", func(a []any, sep func(string) string) (string, error) {
		sp := sep(" ")
		parts := make([]string, 0, len(a))
		size := 0
		for i, x := range a {
			if x == nil {
				continue
			}
			p := fmt.Sprint(x)
			if i > 0 {
				size += len(sp)
			}
			size += len(p)
			if err := fits(size); err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, sp), nil
	})
	// As the library's split: on runs of white space for " ", and without
	// the empty strings at the end.
	addFilter("split", func(s, sep string) ([]string, error) {
		n := strings.Count(s, sep) + 1
		if sep == "" {
			n = utf8.RuneCountInString(s)
		}
		if n > maxListItems {
			return nil, errListTooLong
		}
		out := strings.Split(s, sep)
		if sep == " " {
			out = spaceRuns.Split(s, -1)
		}
		for len(out) > 0 && out[len(out)-1] == "" {
			out = out[:len(out)-1]
		}
		return out, nil
	})
	addFilter("concat", func(a, b []any) ([]any, error) {
		if len(a)+len(b) > maxListItems {
			return nil, errListTooLong
		}
		return append(append(make([]any, 0, len(a)+len(b)), a...), b...), nil
	})
	// The filters that escape grow a value up to five times: the size of
	// the result is counted before it is built, as for replace.
	escaped := func(s string) (string, error) {
		n := len(s)
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '<', '>':
				n += 3 // &lt; &gt;
			case '&', '\'', '"':
				n += 4 // &amp; &#39; &#34;
			}
		}
		if err := fits(n); err != nil {
			return "", err
		}
		return html.EscapeString(s), nil
	}
	addFilter("escape", escaped)
	addFilter("escape_once", func(s, _ string) (string, error) { return escaped(html.UnescapeString(s)) })
	addFilter("url_encode", func(s string) (string, error) {
		n := len(s)
		for i := 0; i < len(s); i++ {
			if c := s[i]; c != ' ' && !unreservedInQuery(c) {
				n += 2 // %XX
			}
		}
		if err := fits(n); err != nil {
			return "", err
		}
		return url.QueryEscape(s), nil
	})
	addFilter("newline_to_br", func(s string) (string, error) {
		if err := fits(len(s) + 5*strings.Count(s, "\n")); err != nil {
			return "", err
		}
		return strings.ReplaceAll(s, "\n", "<br />"), nil
	})
	// The library's date pads a field to any width it is given:
	// "%1000000Y" wrote a million characters a field, built whole before any
	// bound could see it.
	//
	// It also reads Herald's own timestamps, `event.timestamp` and
	// `params.event_params.timestamp` (2022-12-02T15:48:05, UTC and
	// without a zone), which the library's date cannot parse, as Shopify's
	// Liquid does.
	addFilter("date", func(v any, format func(string) string) (string, error) {
		f := format("%a, %b %d, %y")
		if err := checkDateFormat(f); err != nil {
			return "", err
		}
		t, err := templateTime(v)
		if err != nil {
			return "", err
		}
		return tuesday.Strftime(f, t)
	})
	// The library's truncatewords matched a regular expression repeating
	// n times, which runs in the string's length times n (1 MB: a
	// minute): the same cut, in one pass.
	addFilter("truncatewords", func(s string, length func(int) int, ellipsis func(string) string) (string, error) {
		el, n := ellipsis("..."), length(15)
		if n < 0 || n > maxTruncateWords {
			return "", fmt.Errorf("truncatewords takes 0 to %d words", maxTruncateWords)
		}
		if n == 0 {
			return s, nil
		}
		return cutWords(s, n, el), nil
	})
	// The library's slice turned the whole string into runes (40 MB for
	// 10 MB) to return a few: the same cut, walking the runes it needs.
	addFilter("slice", func(s string, start int, length func(int) int) string {
		n := length(1)
		if start < 0 {
			start += utf8.RuneCountInString(s)
			if start < 0 {
				return ""
			}
		}
		i := 0
		for k := 0; k < start && i < len(s); k++ {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		j := i
		for k := 0; k < n && j < len(s); k++ {
			_, size := utf8.DecodeRuneInString(s[j:])
			j += size
		}
		return s[i:j]
	})
	// The library's uniq compares each object or list with every one kept
	// (100,000 objects: hours); here each is known by its JSON.
	// The library's sort_natural changed the case of both strings at
	// every comparison, with no clock read within the filter: 86,000
	// long items took 4 s and more (found by review). The same sort, with
	// each item's key made once: the comparisons, and so the order, are
	// the library's.
	addFilter("sort_natural", func(a []any, key any) (any, error) {
		out := slices.Clone(a)
		if len(out) == 0 || (key == nil && out[0] == nil) {
			return out, nil
		}
		keys := make([]string, len(out))
		for i, v := range out {
			switch {
			case key != nil:
				keys[i] = strings.ToLower(propertyString(v, key))
			case reflect.TypeOf(out[0]).Kind() != reflect.String:
				return out, nil // the library leaves such a list as it is
			default:
				s, ok := v.(string)
				if !ok {
					return nil, errors.New("sort_natural: the list mixes strings with other values")
				}
				keys[i] = strings.ToUpper(s)
			}
		}
		sort.Sort(keyedItems{items: out, keys: keys})
		return out, nil
	})
	addFilter("uniq", func(a []any) []any {
		seen, seenJSON := map[any]bool{}, map[string]bool{}
		var out []any
		for _, x := range a {
			if x != nil && reflect.TypeOf(x).Comparable() {
				if seen[x] {
					continue
				}
				seen[x] = true
			} else if b, err := json.Marshal(x); err == nil {
				if seenJSON[string(b)] {
					continue
				}
				seenJSON[string(b)] = true
			}
			out = append(out, x)
		}
		return out
	})
	marshal := func(v any) ([]byte, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return b, fits(len(b))
	}
	addFilter("json", func(v any) (any, error) {
		b, err := marshal(v)
		if err != nil && !errors.Is(err, errValueTooLarge) {
			return nil, nil //nolint:nilerr // as the library's json filter: a value JSON cannot hold renders empty
		}
		return b, err
	})
	addFilter("inspect", func(v any) (string, error) {
		b, err := marshal(v)
		if errors.Is(err, errValueTooLarge) {
			return "", err
		}
		if err != nil {
			return fmt.Sprintf("%#v", v), nil
		}
		return string(b), nil
	})
}

// spaceRuns is what the library's split splits on for " ".
var spaceRuns = regexp.MustCompile(`[[:space:]]+`)

// maxTruncateWords is the most words truncatewords keeps (the library's
// regular expression refused a larger count, too).
const maxTruncateWords = 1000

// templateTime is the time a date filter formats: a timestamp as Herald
// writes it, in UTC, or whatever the library reads as a time.
func templateTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil // as the library: the zero time, year 1
	}
	if s, ok := v.(string); ok {
		// Parsing accepts a fraction of a second after the seconds too.
		if t, err := time.Parse("2006-01-02T15:04:05", s); err == nil {
			return t, nil
		}
	}
	t, err := values.Convert(v, reflect.TypeFor[time.Time]())
	if err != nil {
		return time.Time{}, err
	}
	return t.(time.Time), nil
}

// maxDateWidth and maxDateFormat bound a date filter's format.
const (
	maxDateWidth  = 64
	maxDateFormat = 1024
)

// checkDateFormat refuses a strftime format longer than maxDateFormat or
// with a field padded past maxDateWidth (%-10d, %064Y).
func checkDateFormat(f string) error {
	if len(f) > maxDateFormat {
		return fmt.Errorf("a date format is longer than %d bytes", maxDateFormat)
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("-_0^#:", f[j]) >= 0 {
			j++
		}
		w := 0
		for ; j < len(f) && f[j] >= '0' && f[j] <= '9'; j++ {
			if w = w*10 + int(f[j]-'0'); w > maxDateWidth {
				return fmt.Errorf("a date format pads a field to at most %d characters", maxDateWidth)
			}
		}
		i = j
	}
	return nil
}

// cutWords is the library's truncatewords, ^(?:\s*\S+){n} matched once
// and the ellipsis added, in one pass: the string up to the end of its
// n-th word; with fewer words, the expression still matches when the
// string has n characters that are not space (it splits a word to make
// up the count), so it is the string without its trailing space; with
// fewer such characters, the string as it is.
func cutWords(s string, n int, el string) string {
	i, words := 0, 0
	for words < n {
		for i < len(s) && isRegexpSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		for i < len(s) && !isRegexpSpace(s[i]) {
			i++
		}
		words++
	}
	if words == n {
		return s[:i] + el
	}
	end := len(s)
	for end > 0 && isRegexpSpace(s[end-1]) {
		end--
	}
	chars := 0
	for _, c := range s[:end] {
		if c > 0x7f || !isRegexpSpace(byte(c)) {
			chars++
		}
	}
	if chars >= n {
		return s[:end] + el
	}
	return s
}

// isRegexpSpace is \s of Go's regular expressions: ASCII white space.
func isRegexpSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// unreservedInQuery reports the bytes url.QueryEscape leaves as they are.
func unreservedInQuery(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// charge counts a stored value against the rendering's budget.
func charge(b *renderBudget, v any) error {
	if b == nil {
		return nil
	}
	b.bytes += sizeOfValue(v, maxRenderBytes-b.bytes+1)
	if b.bytes > maxRenderBytes {
		return errStoredTooMuch
	}
	return nil
}

// sizeOfValue is about what v holds in memory: its strings' bytes and a
// word or two per item, however deep (a value counted as a word past some
// depth let a list of 16,384 references to one deep item pass as small,
// and json, uniq or a comparison then walked gigabytes). It stops counting
// once past limit, so counting costs no more than the budget it checks.
func sizeOfValue(v any, limit int) int {
	n := 0
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case nil: // costs nothing: Herald's step and check nodes return it
		case string:
			n += len(v)
		case json.Number: // an item's number may have a megabyte of digits
			n += len(v)
		case []byte:
			n += len(v)
		case []string:
			for _, s := range v {
				if n += 16 + len(s); n > limit {
					return false
				}
			}
		case []any:
			for _, x := range v {
				if n += 16; !walk(x) {
					return false
				}
			}
		case map[string]any:
			for k, x := range v {
				if n += 16 + len(k); !walk(x) {
					return false
				}
			}
		default:
			n += 16
		}
		return n <= limit
	}
	walk(v)
	return n
}

// checkNoCapture refuses a template with a capture block, naming its line
// and column.
func checkNoCapture(src string, root render.Node) error {
	return walkTemplate(root, func(n render.Node) error {
		if b, ok := n.(*render.BlockNode); ok && b.Name == "capture" {
			line, col := markupPlace(src, b.SourceLoc.LineNo, b.Source)
			return invalid("body_template", "line %d, column %d: %v", line, col, errCapture)
		}
		return nil
	})
}

// maxAssignedNames bounds the different names one template assigns: each
// is compiled into a stored node when the template is rendered (about
// 60 µs each, and kept in the engine for the next rendering).
const maxAssignedNames = 256

// maxAssignedName bounds an assigned name's length: engines keep the
// stored nodes of names between renderings (found by review: 1,023
// renderings of a 60 KB name kept 187 MB in one engine).
const maxAssignedName = 128

// checkAssignedNames refuses a template that assigns more than
// maxAssignedNames different names.
func checkAssignedNames(src string, root render.Node) error {
	names := map[string]bool{}
	return walkTemplate(root, func(n render.Node) error {
		tag, ok := n.(*render.TagNode)
		if !ok || tag.Name != "assign" {
			return nil
		}
		name := assignedName(tag.Args)
		if len(name) > maxAssignedName {
			line, col := markupPlace(src, tag.SourceLoc.LineNo, tag.Source)
			return invalid("body_template", "line %d, column %d: an assigned name is at most %d bytes long", line, col, maxAssignedName)
		}
		if names[name] = true; len(names) > maxAssignedNames {
			line, col := markupPlace(src, tag.SourceLoc.LineNo, tag.Source)
			return invalid("body_template", "line %d, column %d: a template assigns at most %d different names", line, col, maxAssignedNames)
		}
		return nil
	})
}

// propertyString is the string at key of a map item, or "" (as the
// library's sort_natural reads an item's property).
func propertyString(item, key any) string {
	rv := reflect.ValueOf(item)
	if rv.Kind() != reflect.Map {
		return ""
	}
	kv := reflect.ValueOf(key)
	if !kv.Type().AssignableTo(rv.Type().Key()) {
		return ""
	}
	if ev := rv.MapIndex(kv); ev.IsValid() && ev.CanInterface() {
		if s, ok := ev.Interface().(string); ok {
			return s
		}
	}
	return ""
}

// keyedItems sorts items by their keys, moving both together.
type keyedItems struct {
	items []any
	keys  []string
}

func (k keyedItems) Len() int           { return len(k.items) }
func (k keyedItems) Less(i, j int) bool { return k.keys[i] < k.keys[j] }
func (k keyedItems) Swap(i, j int) {
	k.items[i], k.items[j] = k.items[j], k.items[i]
	k.keys[i], k.keys[j] = k.keys[j], k.keys[i]
}
