package models

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A template cannot build a value past maxRenderBytes without a loop:
// these each grow exponentially in a few hundred bytes of template.
func TestRenderBoundsValues(t *testing.T) {
	t.Parallel()
	repeat := strings.Repeat
	tests := []struct {
		name string
		src  string
		want string // the rendering, when it renders
		err  string // a part of the error, when refused
	}{
		{"assign doubling", `{% assign a = "0123456789" %}` + repeat(`{% assign a = a | append: a %}`, 30) + `{{ a | size }}`,
			"", "past 10485760 bytes"},
		{"prepend doubling", `{% assign a = "0123456789" %}` + repeat(`{% assign a = a | prepend: a %}`, 30) + `{{ a | size }}`,
			"", "past 10485760 bytes"},
		{"capture is refused", `{% assign a = "0123456789" %}` + repeat(`{% capture a %}{{ a }}{{ a }}{% endcapture %}`, 30) + `{{ a | size }}`,
			"", "line 1, column 30: capture is not supported"},
		{"capture inside an if is refused", "{% assign a = \"0123456789\" %}\n{% if true %}\n  {% capture a %}{{ a }}{{ a }}{% endcapture %}{% endif %}{{ a | size }}",
			"", "line 3, column 3: capture is not supported"},
		{"one chain of replace", `{{ "x"` + repeat(` | replace: "x", "xxxxxxxxxx"`, 10) + ` | size }}`, "", "past 10485760 bytes"},
		{"replace_first of the empty string", `{% assign a = "xxxxxxxxxx" %}` + repeat(`{% assign a = a | replace: "x", a %}`, 8) + `{{ a | size }}`,
			"", "past 10485760 bytes"},
		{"a string joined with itself", `{% assign a = "0123456789" %}` + repeat(`{% assign a = a | split: "" | join: a %}`, 6) + `{{ a | size }}`,
			"", "past 10485760 bytes"},
		{"json of json", `{% assign a = 'say "hi"' %}` + repeat(`{% assign a = a | json %}`, 40) + `{{ a | size }}`,
			"", "past 10485760 bytes"},
		{"a list doubled by concat", `{% assign l = "a,b,c,d,e,f,g,h" | split: "," %}` + repeat(`{% assign l = l | concat: l %}`, 20) + `{{ l | size }}`,
			"", "a list grows past 100000 items"},
		{"escape grows a value too", `{{ "&"` + repeat(` | replace: "&", "&&&&&&&&&&"`, 7) + ` | escape | size }}`,
			"", "past 10485760 bytes"},
		// Refused before it is built: one pass would write 12 MB.
		{"url_encode grows a value too", `{{ "&&&&"` + repeat(` | replace: "&", "&&&&&&&&&&"`, 6) + ` | url_encode | size }}`,
			"", "past 10485760 bytes"},
		// Each value under the bound, 4 MB doubled over and over: the
		// filters' work adds up (outputs like these, with escape, took half
		// a minute and 1.4 GB before it was counted). append copies, so the
		// work bound, not the clock, stops it even under -race.
		{"a chain of filters adds up", `{% assign a = "&&&&"` + repeat(` | replace: "&", "&&&&&&&&&&"`, 6) + ` %}` +
			repeat(`{{ a | append: a | size }}`, 12),
			"", "the filters return more than 83886080 bytes in all"},
		{"everyday use renders as before",
			`{% assign n = "Ann" | append: "!" | prepend: "Hi " %}{% assign l = "c" | split: "," %}{{ n }} {{ "a-b-c" | split: "-" | join: "+" }} {{ "xax" | replace: "x", "y" }} {{ "xax" | replace_first: "x", "y" }} {{ n | json }} {{ "a,b" | split: "," | concat: l | join: "" }} {{ n | inspect }}`,
			`Hi Ann! a+b+c yay yax "Hi Ann!" abc "Hi Ann!"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := renderUnhurried(tt.src, map[string]any{})
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(out))
		})
	}
}

// uniq knows objects and lists by their content, as the library's did,
// without comparing each with every other.
func TestRenderUniqOfObjects(t *testing.T) {
	t.Parallel()
	list := []any{map[string]any{"a": "1"}, map[string]any{"a": "2"}, map[string]any{"a": "1"}, []any{"b"}, []any{"b"}, "x", "x", nil, nil}
	out, err := RenderBodyTemplate(`{{ l | uniq | json }}`, ContentTypeForm, map[string]any{"l": list})
	require.NoError(t, err)
	require.JSONEq(t, `[{"a":"1"},{"a":"2"},["b"],"x",null]`, string(out))

	many := make([]any, 100_000)
	for i := range many {
		many[i] = map[string]any{"n": i % 50_000}
	}
	out, err = renderUnhurried(`{{ l | uniq | size }}`, map[string]any{"l": many})
	require.NoError(t, err)
	require.Equal(t, "50000", string(out))
}

// A rendering past its deadline fails at the next filter or block, not
// only at a loop's step: a condition or a filter may be costly in itself.
func TestRenderLooksAtTheClockOutsideLoops(t *testing.T) {
	t.Parallel()
	late := func() *renderBudget {
		b := newRenderBudget()
		b.deadline = time.Now().Add(-time.Second)
		return b
	}
	for _, src := range []string{`{{ "a" | upcase }}`, `{% if true %}x{% endif %}`, `x{% unless false %}y{% endunless %}`} {
		_, err := renderBodyTemplate(src, ContentTypeForm, map[string]any{}, late())
		require.ErrorContains(t, err, "the template runs too long", src)
		out, err := renderBodyTemplate(src, ContentTypeForm, map[string]any{}, newRenderBudget())
		require.NoError(t, err, src)
		require.NotEmpty(t, out)
	}
}

// The escaping filters render as the library's did.
func TestRenderEscapingFiltersAsBefore(t *testing.T) {
	t.Parallel()
	in := "a <b> & 'c' \"d\" &amp; e f/g?h=i~j\nk"
	for filter, want := range map[string]string{
		"escape":        html.EscapeString(in),
		"escape_once":   html.EscapeString(html.UnescapeString(in)),
		"url_encode":    url.QueryEscape(in),
		"newline_to_br": strings.ReplaceAll(in, "\n", "<br />"),
	} {
		out, err := RenderBodyTemplate(`{{ s | `+filter+` }}`, ContentTypeForm, map[string]any{"s": in})
		require.NoError(t, err, filter)
		require.Equal(t, want, string(out), filter)
	}
	_, err := RenderBodyTemplate(`{{ s | newline_to_br | size }}`, ContentTypeForm, map[string]any{"s": strings.Repeat("\n", 2_000_000)})
	require.ErrorContains(t, err, "past 10485760 bytes", "newline_to_br grows a value six times")
}

// renderUnhurried renders with a minute to spare rather than 2 s: the
// tests of the other bounds must meet them, not the clock, when -race and
// parallel tests slow the machine.
func renderUnhurried(src string, vars map[string]any) ([]byte, error) {
	b := newRenderBudget()
	b.deadline = time.Now().Add(time.Minute)
	return renderBodyTemplate(src, ContentTypeForm, vars, b)
}
