package journey

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Filter narrows a trigger (or a segment) by a contact attribute or an
// event property.
type Filter struct {
	Attribute string `json:"attribute,omitempty"` // contact attribute, upper-case (COUNTRY)
	Property  string `json:"property,omitempty"`  // event property, dotted for nested values (items.0.sku)
	Op        string `json:"op"`                  // eq, ne, in, contains, exists, gt, lt
	Value     any    `json:"value,omitempty"`
}

// Ops are the filter operators.
var Ops = []string{"eq", "ne", "in", "contains", "exists", "gt", "lt"}

func (f Filter) check() error {
	if (f.Attribute == "") == (f.Property == "") {
		return errors.New("names exactly one of attribute or property")
	}
	switch f.Op {
	case "eq", "ne", "contains", "gt", "lt":
		if f.Value == nil {
			return fmt.Errorf("%s needs a value", f.Op)
		}
	case "in":
		if _, ok := f.Value.([]any); !ok {
			return errors.New("in needs a list value")
		}
	case "exists":
	default:
		return fmt.Errorf("op must be one of %s", strings.Join(Ops, ", "))
	}
	return nil
}

// CheckFilters checks filters on their own (a segment's).
func CheckFilters(fs []Filter) error {
	for i, f := range fs {
		if f.Property != "" {
			return fmt.Errorf("filters[%d]: a segment filters attributes only", i)
		}
		if err := f.check(); err != nil {
			return fmt.Errorf("filters[%d]: %w", i, err)
		}
	}
	return nil
}

// MatchAll reports whether attributes and properties pass every filter.
func MatchAll(fs []Filter, attrs, props map[string]any) bool {
	for _, f := range fs {
		if !f.match(attrs, props) {
			return false
		}
	}
	return true
}

// value is what the filter looks at: the contact's attribute or the
// event's property.
func (f Filter) value(attrs, props map[string]any) (any, bool) {
	if f.Attribute != "" {
		v, ok := attrs[strings.ToUpper(f.Attribute)]
		return v, ok
	}
	return lookup(props, f.Property)
}

func (f Filter) match(attrs, props map[string]any) bool {
	v, ok := f.value(attrs, props)
	present := ok && v != nil && v != ""
	switch f.Op {
	case "exists":
		want := true
		if b, isBool := f.Value.(bool); isBool {
			want = b
		}
		return present == want
	case "ne":
		return !present || !equal(v, f.Value)
	}
	if !present {
		return false
	}
	switch f.Op {
	case "eq":
		return equal(v, f.Value)
	case "in":
		for _, want := range f.Value.([]any) {
			if equal(v, want) {
				return true
			}
		}
		return false
	case "contains":
		if list, isList := v.([]any); isList {
			for _, e := range list {
				if equal(e, f.Value) {
					return true
				}
			}
			return false
		}
		return strings.Contains(strings.ToLower(text(v)), strings.ToLower(text(f.Value)))
	case "gt":
		return compare(v, f.Value) > 0
	case "lt":
		return compare(v, f.Value) < 0
	}
	return false
}

// lookup follows a dotted path through maps and lists.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// equal compares as numbers when both are numbers, else as text without
// case: a marketer's "canada" matches a contact's "Canada".
func equal(a, b any) bool {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return x == y
		}
	}
	return strings.EqualFold(text(a), text(b))
}

// compare orders numbers as numbers, RFC 3339 times as times, and the
// rest as text.
func compare(a, b any) int {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	if x, err := time.Parse(time.RFC3339, text(a)); err == nil {
		if y, err := time.Parse(time.RFC3339, text(b)); err == nil {
			return x.Compare(y)
		}
	}
	return strings.Compare(strings.ToLower(text(a)), strings.ToLower(text(b)))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case interface{ Float64() (float64, error) }: // json.Number
		f, err := n.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil
	}
	return 0, false
}

func text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
