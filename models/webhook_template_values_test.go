package models

import (
	"strings"
	"testing"

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
		{"everyday use renders as before",
			`{% assign n = "Ann" | append: "!" | prepend: "Hi " %}{% assign l = "c" | split: "," %}{{ n }} {{ "a-b-c" | split: "-" | join: "+" }} {{ "xax" | replace: "x", "y" }} {{ "xax" | replace_first: "x", "y" }} {{ n | json }} {{ "a,b" | split: "," | concat: l | join: "" }} {{ n | inspect }}`,
			`Hi Ann! a+b+c yay yax "Hi Ann!" abc "Hi Ann!"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := RenderBodyTemplate(tt.src, ContentTypeForm, map[string]any{})
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, string(out))
		})
	}
}
