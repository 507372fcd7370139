package models

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/osteele/liquid"
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
	for _, src := range []string{`{{ "a" | upcase }}`, `{% if true %}x{% endif %}`, `x{% unless false %}y{% endunless %}`,
		`{{ 1 == 1 }}`, `{% assign z = 1 %}z`} {
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

// Filters whose cost the library let a template choose are bounded: a
// date field's padding, truncatewords' count.
func TestRenderDateAndTruncatewordsAreBounded(t *testing.T) {
	t.Parallel()
	out, err := RenderBodyTemplate(`{{ "2026-12-01T10:04:05Z" | date: "%Y-%m-%d %H:%M" }}|{{ "2026-12-01T10:04:05Z" | date }}`, ContentTypeForm, map[string]any{})
	require.NoError(t, err)
	require.Equal(t, "2026-12-01 10:04|Tue, Dec 01, 26", string(out))
	_, err = RenderBodyTemplate(`{{ "now" | date: "`+strings.Repeat("%1000000Y", 3)+`" | size }}`, ContentTypeForm, map[string]any{})
	require.ErrorContains(t, err, "a date format pads a field to at most 64 characters")
	_, err = RenderBodyTemplate(`{{ "now" | date: "%-065d" }}`, ContentTypeForm, map[string]any{})
	require.ErrorContains(t, err, "at most 64 characters")

	// The library's cut, as a regular expression, on strings of every shape.
	library := func(s string, n int, el string) string {
		m := regexp.MustCompile(fmt.Sprintf(`^(?:\s*\S+){%d}`, n)).FindString(s)
		if m == "" {
			return s
		}
		return m + el
	}
	for _, s := range []string{"", " ", "one", "one two three", "  lead and trail  ", "tab\tnew\nline\fform\rret  x", "ünï cödé wörds ok", "a  b   c    d"} {
		for n := range 6 {
			out, err := RenderBodyTemplate(`{{ s | truncatewords: n, "…" }}`, ContentTypeForm, map[string]any{"s": s, "n": n})
			require.NoError(t, err)
			require.Equal(t, library(s, n, "…"), string(out), "%q cut at %d words", s, n)
		}
	}
	out, err = RenderBodyTemplate(`{{ s | truncatewords: 1000 | size }}`, ContentTypeForm, map[string]any{"s": strings.Repeat("x", 1<<20)})
	require.NoError(t, err, "one long word: a minute with the library's expression")
	require.Equal(t, "1048579", string(out), "as the library: a word split to make up the count, and the ellipsis")
	_, err = RenderBodyTemplate(`{{ "a b" | truncatewords: 1001 }}`, ContentTypeForm, map[string]any{})
	require.ErrorContains(t, err, "truncatewords takes 0 to 1000 words")
}

// A value is counted whole, however deep: a list of references to one
// deep item once counted a word each, so 16,384 of them passed as small
// and json or uniq then walked gigabytes.
func TestRenderCountsDeepValuesWhole(t *testing.T) {
	t.Parallel()
	var deep any = map[string]any{"s": strings.Repeat("x", 30_000)}
	for range 10 {
		deep = map[string]any{"a": deep}
	}
	item, err := json.Marshal(deep)
	require.NoError(t, err)
	vars := TemplateVars("p", "w", [][]byte{item}, nil)
	_, err = renderUnhurried(`{% assign l = events | map: "item" %}`+strings.Repeat(`{% assign l = l | concat: l %}`, 14)+`{{ l | json | size }}`, vars)
	require.ErrorContains(t, err, "the values assigned grow past 10485760 bytes in all")
}

// A template the parser panics on is refused like any other it cannot
// read, without a Go stack trace in the message.
func TestRenderParsePanicIsATemplateError(t *testing.T) {
	t.Parallel()
	_, err := RenderBodyTemplate(`{"n": {{ 9999999999999999999999 }}}`, ContentTypeJSON, map[string]any{})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "body_template", ve.Field)
	require.Contains(t, ve.Message, "cannot parse")
	require.NotContains(t, ve.Message, "goroutine")
	require.NotContains(t, ve.Message, "stacktrace")
}

// The nodes Herald adds write nothing where a right trim is pending, so
// trimming renders as the library does.
func TestRenderTrimsAsTheLibrary(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"l": []any{"x", "y"}}
	for _, tc := range []struct{ src, want string }{
		{"{{ \"a\" -}}{% if true %}  b{% endif %}", "ab"},
		{"{{ \"a\" -}}\n  {% if true %}  b{% endif %}", "a  b"},
		{"{% if true -%}  b{%- endif %} c", "b c"},
		{"x{% for i in l %}{{ i -}}{% unless false %}  !{% endunless %}{% endfor %}", "xx!y!"},
		{"{% case 1 %}{% when 1 -%}  one{% endcase %}", "one"},
		{"{{ \"a\" -}}{% for i in l %}  {{ i }}{% endfor %}", "ax  y"},
		{"{% for i in l %}{{ i -}}{% endfor %}{% for i in l %}  {{ i }}{% endfor %}", "xyx  y"},
		{"{% if true %}a {{- \"\" -}}{% endif %}{% if true %}   b{% endif %}", "ab"},
		{"{% unless false -%}{% endunless %}{% if true %}  b{% endif %}", "b"},
		{"{{ \"a\" -}}{% assign z = 1 %}  b{{ z }}", "ab1"},
		{"{% for i in l %}{{ i -}}{% assign z = i | upcase -%} {{ z }}{% endfor %}", "xXyY"},
		{"{% if true %}{{ \"a\" -}}{% assign z = 2 %}  b{{ z }}{% endif %}", "ab2"},
	} {
		out, err := RenderBodyTemplate(tc.src, ContentTypeForm, vars)
		require.NoError(t, err, tc.src)
		want, err := liquid.NewEngine().ParseAndRenderString(tc.src, vars)
		require.NoError(t, err, tc.src)
		require.Equal(t, want, string(out), tc.src)
		require.Equal(t, tc.want, string(out), tc.src)
	}
}

// Markup that Liquid would scan to the end of the line or template once
// per opener is refused in one pass, at the opener; a save of 64 KiB of it
// took half a minute before.
func TestTemplateWithUnclosedMarkupIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	for _, unit := range []string{"{{{%-%}", "{{{%a%}", "{{{%assign x=1%}"} {
		src := strings.Repeat(unit, maxTemplateBytes/len(unit))
		spec := WebhookSpec{BodyFormat: BodyTemplate, TemplateContentType: ContentTypeForm, BodyTemplate: src}
		err := spec.checkTemplate()
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, unit)
		require.Equal(t, "line 1, column 1: {{ is not closed by }} (its expression stays on one line)", ve.Message)
		require.False(t, IteratesEvents(src))
		_, err = RenderBodyTemplate(src, ContentTypeForm, map[string]any{})
		require.ErrorAs(t, err, &ve)
	}
	for src, msg := range map[string]string{
		"{% if true %}x{% endif": "unterminated \"if\" block",
	} {
		_, err := RenderBodyTemplate(src, ContentTypeForm, map[string]any{"x": 1})
		require.ErrorContains(t, err, msg)
	}
	// A tag may span lines, an output's white space too, a lone closer is
	// text, and so is a stray opener (Liquid reads it to the line's end).
	for _, src := range []string{"{% if\n true %}{{ x }}{% endif %}}}", "{\"n\": {{\n  x | json\n}}}", "{{- \n\n x -}}\n\n", "{{ x\n\n -}}",
		"a\n b {{ x\n y }}"} {
		out, err := RenderBodyTemplate(src, ContentTypeForm, map[string]any{"x": 1})
		require.NoError(t, err, "%q", src)
		want, err := liquid.NewEngine().ParseAndRenderString(src, map[string]any{"x": 1})
		require.NoError(t, err)
		require.Equal(t, want, string(out), src)
	}
}

// Outputs written one after the other, each right after a right trim, are
// held in memory by the engine: more than a few in a row are refused.
func TestRenderBoundsTrimmedRuns(t *testing.T) {
	t.Parallel()
	mk := `{% assign a = "xxxxxxxxxx" %}`
	for _, tc := range []struct {
		src string
		ok  bool
	}{
		{mk + strings.Repeat(`{{ a -}}`, 4), true},
		{mk + strings.Repeat(`{{ a -}}`, 5), false},
		{mk + strings.Repeat(`{{ a -}}{{ "." -}}{% assign b = 1 -%}`, 4), true}, // literals and tags hold nothing large
		{mk + strings.Repeat(`{{ a | upcase -}}{{ "." -}}`, 5), false},
		{mk + strings.Repeat(`{{ a -}} `, 20), true}, // the text between is written out
		{mk + strings.Repeat(`{{- a -}}`, 20), true}, // a left trim writes out what was held
		// a block's body writes out what it held at its end
		{mk + `{{ a -}}` + strings.Repeat(`{% if true %}{{ a -}}{% endif %}`, 4), true},
		{mk + strings.Repeat(`{% for i in none %}{% else %}{{ a -}}{% endfor %}`, 5), true},
		{mk + `{% if true %}` + strings.Repeat(`{{ a -}}`, 5) + `{% endif %}`, false},
		// A loop opened with a right trim goes on with what came before.
		{mk + `{{ a -}}{{ a -}}{{ a -}}{% for i in l -%}{{ a -}}{% for j in l -%}{{ a -}}{% endfor %}{% endfor %}`, false},
		{mk + `{% for i in l %}{{ a -}}{% endfor %}`, true},
		// A nil value, or a nil literal, writes nothing: the trim stays
		// pending and what was held stays held (these held every a: a
		// gigabyte from a few KB of template).
		{mk + strings.Repeat(`{{ a -}}{{ unknown }}`, 5), false},
		{mk + strings.Repeat(`{{ a -}}{{ nil }}`, 5), false},
		{mk + strings.Repeat(`{{ a -}}{{ empty }}`, 5), false},
		{mk + strings.Repeat(`{{ a -}}{{ blank }}`, 5), false},
		// empty is a variable to the engine, not a literal
		{`{% assign empty = "xxxxxxxxxx" %}` + strings.Repeat(`{{ empty -}}`, 5), false},
		{mk + strings.Repeat(`{{ a -}}{{ a }}`, 5), false},
		{mk + strings.Repeat(`{{ a -}}{{ "" }}`, 5), true}, // the empty string is a write
		{mk + strings.Repeat(`{{ a -}}{{ a }} `, 20), true},
		// text after a nil value is held with what was (found by review:
		// this held gigabytes)
		{mk + strings.Repeat(`{{ a -}}{{ unknown }}{{ "." -}}`, 5), false},
		// continue and break leave a pass without writing out what it held
		{mk + `{% for i in l %}{{ a -}}{% continue %}{% endfor %}`, false},
		{mk + `{% for i in l %}{% if i == 2 %}{{ a -}}{% break %}{% endif %}{{ a -}}{% endfor %}`, true}, // break ends the loop: no pass goes on from it
		{mk + `{% for i in l %}{% if i == 1 %}{% continue %}{% endif %}{{ a }} {% endfor %}`, true},
		// text held at every continue grows with the passes, and so do
		// values held at one continue while another carries more (found
		// by review: 2 GB and 2.6 GB)
		{mk + `{% for i in l %}` + strings.Repeat("A", 100) + `{{ nil -}}{% continue %}{% endfor %}`, false},
		{mk + `{{ a -}}{{ a -}}{{ a -}}{{ a -}}.{% for e in l %}{% if e == "-" %}{% continue %}{% endif %}X{{ nil -}}{{ a -}}{% continue %}{% endfor %}`, false},
		{mk + "{%- for e in l -%}{%- if e == 1 -%}{%- continue -%}{%- endif -%}{{ e }},{%- endfor -%}", true},
		{mk + "{% for e in l -%}\n  {% if e == 1 %}{% continue %}{% endif %}{{ a }},\n{% endfor %}", true},
	} {
		out, err := RenderBodyTemplate(tc.src, ContentTypeForm, map[string]any{"l": []any{1, 2}, "none": []any{}})
		if tc.ok {
			require.NoError(t, err, tc.src)
			require.NotEmpty(t, out)
			continue
		}
		require.ErrorContains(t, err, "right after a right trim", tc.src)
	}
}

// One output or tag may not chain comparisons without end: the engine
// reads no clock within one.
func TestRenderBoundsComparisonsInOneMarkup(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"a": "x", "l": []any{"x"}}
	ok := `{% if a == "x" and a != "y" or l contains "x" %}yes{% endif %}`
	out, err := RenderBodyTemplate(ok, ContentTypeForm, vars)
	require.NoError(t, err)
	require.Equal(t, "yes", string(out))
	_, err = RenderBodyTemplate("x\n  {% if a == a"+strings.Repeat(" and a == a", 16)+" %}y{% endif %}", ContentTypeForm, vars)
	require.ErrorContains(t, err, "line 2, column 3: more than 16 comparisons of two values that are not literals in one output or tag")
}

// Review 4: what one block, one tag or one number could still cost.
func TestRenderBoundsBlocksListsRangesAndNumbers(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"l": []any{"x"}, "m": []any{"y"}}
	for src, msg := range map[string]string{
		// elsif and when conditions are evaluated one after another, without the clock
		"{% if l != l %}" + strings.Repeat("{% elsif l != l %}", 64) + "{% endif %}": "comparisons of two values that are not literals across its clauses (a when value counts as one, plus those it holds); at most 64",
		"{% case l %}" + strings.Repeat("{% when m %}", 65) + "{% endcase %}":        "this case holds 65 comparisons of two values that are not literals",
		"{% case l %}{% when m" + strings.Repeat(", m", 64) + " %}{% endcase %}":     "more than 64 values in one when",
		// empty is a variable to the engine, which may hold a large list
		"{% assign empty = l %}{% if empty == empty" + strings.Repeat(" and empty == empty", 16) + " %}{% endif %}": "more than 16 comparisons",
		// a when value in parentheses holds comparisons of its own
		"{% case false %}" + strings.Repeat("{% when (l == l"+strings.Repeat(" and l == l", 15)+") %}x", 4) + "{% endcase %}": "this case holds 68 comparisons",
		"{% for i in l %}{% cycle \"a\"" + strings.Repeat(", \"a\"", 64) + " %}{% endfor %}":                                  "more than 64 values in one cycle",
		// a range in parentheses is built whole before any filter sees it
		"{{ ((1)..(5000000)) | first }}": "ranges such as (1..n) are not supported",
	} {
		_, err := RenderBodyTemplate(src, ContentTypeForm, vars)
		require.ErrorContains(t, err, msg, "%.60s", src)
	}
	out, err := RenderBodyTemplate(`{% case "b" %}{% when "a", "b" %}ab{% when "c..d" %}cd{% endcase %}{{ "x..y" | size }}`, ContentTypeForm, vars)
	require.NoError(t, err, "commas and dots inside strings count for nothing")
	require.Equal(t, "ab4", string(out))

	// An item's number may have a megabyte of digits: counted by its length.
	item := []byte(`{"l":[1` + strings.Repeat("0", 99_999) + `]}`)
	_, err = renderUnhurried(`{% assign a = item.l %}`+strings.Repeat(`{% assign a = a | concat: a %}`, 10)+`{{ a | json | size }}`,
		TemplateVars("p", "w", [][]byte{item}, nil))
	require.ErrorContains(t, err, "grow past 10485760 bytes")
}

// Liquid's tag cannot end at a %} whose % closes a pair (%%}): such a tag
// is not closed, and is refused before the engine's scanner reads on to
// the end for it.
func TestTemplateWithTagsLiquidCannotCloseIsRefused(t *testing.T) {
	t.Parallel()
	_, err := RenderBodyTemplate(strings.Repeat("{%a %%}{{x}}", 3000), ContentTypeForm, map[string]any{})
	require.ErrorContains(t, err, "line 1, column 1: {% is not closed by %}")
	out, err := RenderBodyTemplate(`{% assign p = "50%%" %}{{ p }}{% if true %}%}{% endif %}`, ContentTypeForm, map[string]any{})
	require.NoError(t, err)
	require.Equal(t, "50%%%}", string(out))
}

// split is the library's: on runs of white space for " ", without the
// empty strings at the end.
func TestRenderSplitAsTheLibrary(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"s": "a  b c", "csv": "x,y,", "t": " \tlead"}
	for _, src := range []string{
		`{{ s | split: " " | size }}|{{ s | split: " " | join: "-" }}`,
		`{{ csv | split: "," | size }}|{{ csv | split: "," | last }}`,
		`{{ t | split: " " | join: "-" }}|{{ "a,,b" | split: "," | size }}`,
	} {
		requireRendersAsTheLibrary(t, src, vars)
	}
}

// Review 5: templates a marketer writes render as with the library:
// markup in comments and raw bodies is not parsed, a stray opener costs
// little, and comparisons with literals are cheap.
func TestRenderLegitimateTemplatesAsTheLibrary(t *testing.T) {
	t.Parallel()
	vars := TemplateVars("sample_panel", "Hook", [][]byte{SampleItem("Hook", time.Unix(1_700_000_000, 0))}, []map[string]any{SampleContact()})
	names := func(n int, sep string) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(sep)
			}
			fmt.Fprintf(&b, `"event_%d"`, i)
		}
		return b.String()
	}
	var whens strings.Builder
	for i := range 20 {
		fmt.Fprintf(&whens, `{%% when "a%d", "b%d", "c%d", "d%d" %%}group %d`, i, i, i, i, i)
	}
	for _, src := range []string{
		`{% comment %}old version: {% for i in (1..3) %}{{ i }}{% endfor %}{% endcomment %}email={{ contact.email | url_encode }}`,
		`{% raw %}{{#each items}}{{name}} for {{../customer}}{{/each}}{% endraw %}`,
		"{% comment %}\n  {% if a == 1 or a == 2 or a == 3 or a == 4 or a == 5 or a == 6 or a == 7 or a == 8 or a == 9 or a == 10 or a == 11 or a == 12 or a == 13 or a == 14 or a == 15 or a == 16 or a == 17 %}{% endif %}\n{% endcomment %}x",
		"{% comment %}\n  Braze placeholders look like {{${first_name}\n{% endcomment %}email={{ contact.email }}",
		`{% case "c7" %}` + whens.String() + `{% else %}other{% endcase %}`,
		`{% assign e = "event_30" %}{% if e == ` + names(40, " or e == ") + ` %}known{% endif %}`,
		`{{ contact.FIRSTNAME | downcase -}}{{ "." -}}{{ contact.LASTNAME | downcase -}}{{ "@" -}}{{ "acme.example" }}`,
		`{% assign a = contact.FIRSTNAME -%}{% assign b = contact.LASTNAME -%}{% assign c = contact.CITY -%}{% assign d = contact.COUNTRY -%}{% assign e = contact.PLAN -%}{{ a }} {{ b }} {{ c }} {{ d }} {{ e }}`,
		`data={%22email%22:%22{{ contact.email | url_encode }}%22}`,
		// review 8: a run does not go on past a loop's passes, nor through a case's body before its first when
		`{% for w in events %}{% case 1 %}{% for e in events %}{{ "A" | upcase }}{% endfor -%}{% case 2 %}{{ panel -}}{{ 0 | url_encode }}{% endcase %}{% endcase -%}{{ w.event.name -}}{{ forloop.index }}{% endfor %}`,
	} {
		requireRendersAsTheLibrary(t, src, vars)
	}
}

// Review 6: what the engine parses is read with its own scanner, so no
// comment Herald imagines hides markup the engine runs, and a comparison
// is cheap only when it is a variable against a literal, whole.
func TestRenderChecksWhatTheEngineParses(t *testing.T) {
	t.Parallel()
	list := `{% assign l = "a,b" | split: "," %}`
	for name, src := range map[string]string{
		"endcomment with arguments":  `{% comment %}{% endcomment x %}{{ (1..3000000) | first }}`,
		"endraw with arguments":      `{% raw %}{% endraw x %}{{ (1..3000000) | first }}`,
		"a comment in a string":      `{{ "{% comment %}" }}{{ (1..3000000) | first }}`,
		"a stray opener before":      `{%" {% assign r = (1..3000000) %}{{ r | first }}`,
		"a literal hiding a compare": list + "{{ 1 == (l == l)" + strings.Repeat(" or 1 == (l == l)", 16) + " }}",
		"contains on a list":         list + `{% if l contains "x" %}` + strings.Repeat(`{% elsif l contains "x" %}`, 64) + "{% endif %}",
		"a when value that computes": list + "{% case 1 %}" + strings.Repeat("{% when 1[(l == l)] %}", 65) + "{% endcase %}",
	} {
		_, err := renderUnhurried(src, map[string]any{})
		require.Error(t, err, name)
	}
	// Herald's scans are linear where Liquid's reads a stray opener to the
	// end of its line only: 64 KiB of "{{\n{%%}" is text, read at once.
	src := strings.Repeat("{{\n{%%}", 9362)
	spec := WebhookSpec{BodyFormat: BodyTemplate, TemplateContentType: ContentTypeForm, BodyTemplate: src}
	require.NoError(t, spec.checkTemplate())
	require.True(t, spec.PerEventTemplate())
	// Scans that Liquid would make in vain, summed, are bounded lower.
	head := strings.Repeat("{% a {{x}}", 63)
	err := checkMarkupClosed(head + strings.Repeat("y", 64<<10-len(head)))
	require.ErrorContains(t, err, "{% is not closed by %}")
}

// Review 7: slice walks the runes it needs, as the library cut them; a
// message quoting a huge value is placed among the template's markup and
// cut, not searched at every " in " it holds (a megabyte of them took
// seconds) nor answered whole.
func TestRenderSliceAndHugeErrors(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"s": "héllo wörld", "e": ""}
	for _, src := range []string{`{{ s | slice: 0 }}`, `{{ s | slice: 1, 4 }}`, `{{ s | slice: -5, 3 }}`, `{{ s | slice: -11 }}`,
		`{{ s | slice: -50 }}`, `{{ s | slice: 3, 100 }}`, `{{ e | slice: 0 }}`} {
		requireRendersAsTheLibrary(t, src, vars)
	}
	item := []byte(`{"n": "` + strings.Repeat(" in ", (1<<20-100)/4) + `"}`)
	_, err := RenderBodyTemplate("x\n  {{ item.n | plus: 1 }}", ContentTypeJSON, TemplateVars("p", "w", [][]byte{item}, nil))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Less(t, len(ve.Message), 4096)
	require.True(t, strings.HasPrefix(ve.Message, "line 2, column 3: "), ve.Message[:40])
	require.True(t, strings.HasSuffix(ve.Message, "… (cut) in {{ item.n | plus: 1 }}"), ve.Message[len(ve.Message)-60:])
}

// date reads Herald's own timestamps (UTC, without a zone), which the
// library cannot parse, so a template can format the event's time; any
// other value it reads as the library does. (Found by review: both engines
// refused {{ event.timestamp | date: "%s" }}, so such a template could not
// even be saved.)
func TestRenderDateReadsHeraldTimestamps(t *testing.T) {
	t.Parallel()
	src := `{{ event.timestamp | date: "%Y-%m-%d %H:%M:%S %s" }}`
	vars := map[string]any{"event": map[string]any{"timestamp": "2022-12-02T15:48:05"}}
	out, err := RenderBodyTemplate(src, ContentTypeForm, vars)
	require.NoError(t, err)
	require.Equal(t, "2022-12-02 15:48:05 1669996085", string(out), "read as UTC")
	out, err = RenderBodyTemplate(`{{ t | date: "%H:%M:%S.%L" }}`, ContentTypeForm, map[string]any{"t": "2022-12-02T15:48:05.250"})
	require.NoError(t, err)
	require.Equal(t, "15:48:05.250", string(out))
	spec := WebhookSpec{BodyFormat: BodyTemplate, TemplateContentType: ContentTypeForm, BodyTemplate: `at={{ event.timestamp | date: "%s" }}`}
	require.NoError(t, spec.checkTemplate(), "the template renders the sample event, so it saves")

	for _, v := range []any{nil, "", "bogus", "2022-12-02 15:48:05", "2022-12-02T15:48:05Z", "2022-12-02", 1669996085, []any{1}} {
		src := `{{ v | date: "%Y-%m-%d %H:%M" }}`
		want, wantErr := liquid.NewEngine().ParseAndRenderString(src, map[string]any{"v": v})
		out, err := RenderBodyTemplate(src, ContentTypeForm, map[string]any{"v": v})
		if wantErr != nil {
			require.ErrorContains(t, err, "to type time.Time", "%#v", v)
			continue
		}
		require.NoError(t, err, "%#v", v)
		require.Equal(t, want, string(out), "%#v", v)
	}
}

// The clock is read before every output in an if's or unless's first
// branch too, which the library renders from a copy of the block's node
// made when it compiled the template. (Found by review: the check nodes
// went into a new slice the copy never saw, and {{ l == l }} repeated
// inside {% if true %} ran 32 s on a 90,000-item list, past the 2 s
// bound, on the server every panel shares.)
func TestRenderReadsTheClockInEveryBranch(t *testing.T) {
	t.Parallel()
	l := make([]any, 90_000)
	for i := range l {
		l[i] = "ab"
	}
	outputs := strings.Repeat(`{{ l == l }}`, 400)
	for _, wrap := range [][2]string{
		{"", ""},
		{"{% if true %}", "{% endif %}"},
		{"{% unless false %}", "{% endunless %}"},
		{"{% if false %}{% elsif true %}", "{% endif %}"},
		{"{% if false %}{% else %}", "{% endif %}"},
		{"{% case 1 %}{% when 1 %}", "{% endcase %}"},
		{"{% for i in one %}", "{% endfor %}"},
		{"{% if true %}{% if true %}", "{% endif %}{% endif %}"},
	} {
		b := newRenderBudget()
		b.deadline = time.Now().Add(50 * time.Millisecond)
		_, err := renderBodyTemplate(wrap[0]+outputs+wrap[1], ContentTypeForm, map[string]any{"l": l, "one": []any{1}}, b)
		require.ErrorContains(t, err, "too long", wrap[0])
	}
}

// What an assign stores is charged wherever the assign is, the first
// branch of an if too (the library renders it from a copy of its node),
// and a template assigns at most maxAssignedNames different names, each
// compiled into a stored node when it renders.
func TestRenderChargesEveryAssign(t *testing.T) {
	t.Parallel()
	grow := `{% assign s = "0123456789abcdef" %}` + strings.Repeat(`{% assign s = s | append: s %}`, 19) // 8 MiB
	copies := ""
	for i := range 3 {
		copies += fmt.Sprintf(`{%% assign c%d = s | append: "" %%}`, i)
	}
	for _, wrap := range [][2]string{{"", ""}, {"{% if true %}", "{% endif %}"}, {"{% unless false %}", "{% endunless %}"},
		{"{% case 1 %}{% when 1 %}", "{% endcase %}"}, {"{% for i in one %}", "{% endfor %}"}} {
		_, err := renderUnhurried(wrap[0]+grow+copies+wrap[1], map[string]any{"one": []any{1}})
		require.ErrorContains(t, err, "the values assigned grow past 10485760 bytes in all", wrap[0])
	}

	names := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "{%% assign v%d = %d %%}", i, i)
		}
		return b.String()
	}
	out, err := RenderBodyTemplate(names(256)+"{{ v255 }}", ContentTypeForm, map[string]any{})
	require.NoError(t, err)
	require.Equal(t, "255", string(out))
	_, err = RenderBodyTemplate(names(257), ContentTypeForm, map[string]any{})
	require.ErrorContains(t, err, "a template assigns at most 256 different names")
	_, err = RenderBodyTemplate("{% assign "+strings.Repeat("n", 129)+" = 1 %}", ContentTypeForm, map[string]any{})
	require.ErrorContains(t, err, "an assigned name is at most 128 bytes long")
	out, err = RenderBodyTemplate("{% assign "+strings.Repeat("n", 128)+" = 1 %}{{ "+strings.Repeat("n", 128)+" }}", ContentTypeForm, map[string]any{})
	require.NoError(t, err)
	require.Equal(t, "1", string(out))
}

// sort_natural sorts as the library's, each item's key made once instead
// of at every comparison (found by review: 86,000 long items took 4 s and
// more, with no clock read within the filter).
func TestRenderSortNaturalAsTheLibrary(t *testing.T) {
	t.Parallel()
	words := []any{}
	for i := range 2000 {
		words = append(words, fmt.Sprintf("%c%céé%d", 'a'+rune(i*7%26), 'A'+rune(i*11%26), i%13))
	}
	people := []any{}
	for i := range 300 {
		people = append(people, map[string]any{"name": fmt.Sprintf("N%c%d", 'a'+rune(i*5%26), i%7), "n": i})
	}
	vars := map[string]any{"words": words, "people": people, "nums": []any{3, 1, 2}, "none": []any{}, "mixed": []any{"b", "A", "c"}}
	for _, src := range []string{
		`{{ words | sort_natural | join: "," }}`,
		`{% assign s = people | sort_natural: "name" %}{% for p in s %}{{ p.n }},{% endfor %}`,
		`{{ nums | sort_natural | join: "," }}`,
		`{{ none | sort_natural | size }}`,
		`{{ mixed | sort_natural | join: "," }}`,
	} {
		requireRendersAsTheLibrary(t, src, vars)
	}
}

// The trim-run check follows each loop's passes until they stop growing,
// so nested loops multiply its walk: it stops at maxTrimVisits nodes.
func TestTrimRunCheckIsBounded(t *testing.T) {
	t.Parallel()
	src := strings.Repeat(`{% for i in l %}x`, 30) + strings.Repeat(`{{ a -}}{% endfor %}`, 30)
	start := time.Now()
	_, err := RenderBodyTemplate(src, ContentTypeForm, map[string]any{"l": []any{1}})
	require.ErrorContains(t, err, "the template's loops nest too deep to check")
	require.Less(t, time.Since(start), time.Minute, "bounded by the visits, not by 2^30 passes")
	_, err = RenderBodyTemplate(strings.Repeat(`{% for i in l %}x`, 4)+strings.Repeat(`{{ a -}}{% endfor %}`, 4), ContentTypeForm, map[string]any{"l": []any{1}})
	require.NoError(t, err)
}

// requireRendersAsTheLibrary renders src with Herald and with the plain
// library: both render it, the same.
func requireRendersAsTheLibrary(t *testing.T, src string, vars map[string]any) {
	t.Helper()
	want, lerr := liquid.NewEngine().ParseAndRenderString(src, vars)
	require.NoError(t, lerr, src)
	out, err := RenderBodyTemplate(src, ContentTypeForm, vars)
	require.NoError(t, err, src)
	require.Equal(t, want, string(out), src)
}
