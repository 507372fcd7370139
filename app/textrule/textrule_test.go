package textrule

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestCheckJSONText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, path, what string }{
		{"plain", `{"a": "b", "c": [1, "d"]}`, "", ""},
		{"pair", `{"a": "\ud83d\ude00\uD83D\uDE00"}`, "", ""},
		{"escaped backslash", `{"a": "\\u0000 \\ud800"}`, "", ""},
		{"U+FFFD", `{"a": "\ufffd�"}`, "", ""},
		{"NUL at the root", `"\u0000"`, "", `holds a NUL character (\u0000)`},
		{"NUL in a value", `{"a": {"b": [0, {"c": "x\u0000"}]}}`, "a.b[1].c", `holds a NUL character (\u0000)`},
		{"NUL in a key", `{"a": {"b\u0000": 1}}`, "a", `has a key that holds a NUL character (\u0000)`},
		{"NUL in a root key", `{"\u0000": 1}`, "", `has a key that holds a NUL character (\u0000)`},
		{"high alone", `{"a": "\ud800"}`, "a", `holds an unpaired UTF-16 surrogate (\ud800)`},
		{"high at the end", `{"a": "x\uDBFF"}`, "a", `holds an unpaired UTF-16 surrogate (\udbff)`},
		{"high then letter", `{"a": "\ud800\u0041"}`, "a", `holds an unpaired UTF-16 surrogate (\ud800)`},
		{"high then high", `{"a": "\ud800\ud800\udc00"}`, "a", `holds an unpaired UTF-16 surrogate (\ud800)`},
		{"high then escape", `{"a": "\ud800\n"}`, "a", `holds an unpaired UTF-16 surrogate (\ud800)`},
		{"low alone", `["ok", "\udc00"]`, "[1]", `holds an unpaired UTF-16 surrogate (\udc00)`},
		{"low before high", `{"a": "\udc00\ud800"}`, "a", `holds an unpaired UTF-16 surrogate (\udc00)`},
		{"not UTF-8", "{\"a\": [\"\xff\"]}", "a[0]", "holds bytes that are not UTF-8"},
		{"surrogate as UTF-8", "{\"a\": \"\xed\xa0\x80\"}", "a", "holds bytes that are not UTF-8"},
		{"after escaped quote", `{"a\"": 1, "b": "\u0000"}`, `b`, `holds a NUL character (\u0000)`},
		{"key with escapes", `{"a\u00e9": {"x": "\u0000"}}`, "aé.x", `holds a NUL character (\u0000)`},
		{"index after objects", `[{"a": 1}, {"b": [2, 3]}, "\ud800"]`, "[2]", `holds an unpaired UTF-16 surrogate (\ud800)`},
		{"truncated", `{"a": "\u00`, "", ""},
		{"unclosed", `{"a": "x\u0000`, "a", `holds a NUL character (\u0000)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := CheckJSON([]byte(tc.doc))
			if tc.what == "" {
				require.Nil(t, bad)
				return
			}
			require.NotNil(t, bad)
			require.Equal(t, tc.path, bad.Path)
			require.Equal(t, tc.what, bad.What)
		})
	}
}

func TestCheckFormText(t *testing.T) {
	t.Parallel()
	require.Nil(t, CheckForm(url.Values{"a": {"é", ""}, "b": {"✓"}}))
	bad := CheckForm(url.Values{"z": {"\x00"}, "b": {"ok", "\xff"}})
	require.Equal(t, &Unstorable{Path: "b", What: "holds bytes that are not UTF-8"}, bad, "the first field by name")
	bad = CheckForm(url.Values{"a\x00": {"1"}})
	require.Equal(t, &Unstorable{What: "has a field name that holds a NUL character"}, bad)
}

// FuzzCheckJSONText: on any document CheckJSON never panics, and on a
// well-formed one it agrees with encoding/json, which keeps NUL and turns
// bad UTF-8 and unpaired surrogates into U+FFFD: a refused document
// decodes to text with NUL or U+FFFD, and an accepted one to text without
// NUL, and without U+FFFD unless the document holds one itself.
func FuzzCheckJSONText(f *testing.F) {
	for _, seed := range []string{`{"a": "b"}`, `{"a": "\ud800"}`, `["\ud83d\ude00"]`, `{"\u0000": 1}`, `"\\u0000"`,
		"\"\xff\"", `[{"a": [{"b": "\udc00"}]}]`, `{"a": "\ufffd"}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		bad := CheckJSON([]byte(doc))
		if bad != nil {
			require.NotEmpty(t, bad.What)
		}
		var v any
		if !json.Valid([]byte(doc)) || json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		var text strings.Builder
		collectText(v, &text)
		hasNUL := strings.ContainsRune(text.String(), 0)
		hasFFFD := strings.ContainsRune(text.String(), utf8.RuneError)
		if bad != nil {
			require.True(t, hasNUL || hasFFFD, "refused %q (%v), which decodes to %q", doc, bad, text.String())
			return
		}
		require.False(t, hasNUL, "accepted %q, which holds NUL", doc)
		sentFFFD := strings.ContainsRune(doc, utf8.RuneError) || strings.Contains(strings.ToLower(doc), `\ufffd`)
		require.True(t, !hasFFFD || sentFFFD, "accepted %q, which the decoder had to repair", doc)
	})
}

// collectText writes every key and string of a decoded document.
func collectText(v any, b *strings.Builder) {
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case []any:
		for _, e := range x {
			collectText(e, b)
		}
	case map[string]any:
		for k, e := range x {
			b.WriteString(k)
			collectText(e, b)
		}
	}
}
