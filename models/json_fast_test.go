package models

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeSlow is DecodeExact's encoding/json path, which the fast one must
// match value for value.
func decodeSlow(raw []byte, m *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(m)
}

func TestDecodeObjectFastMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc  string
		fast bool // the fast path handles it (else encoding/json does)
	}{
		{`{}`, true},
		{` {"a": 1, "b": [true, false, null, -0.5e+10, {"c": "d"}], "e": {}} `, true},
		{`{"n": 12345678901234567890123, "f": 1E-7, "z": 0, "neg": -3}`, true},
		{`{"s": "caf\u00e9 \"q\" \\ \/ \b\f\n\r\t", "emoji": "\ud83d\ude00", "raw": "日本"}`, true},
		{`{"dup": 1, "dup": 2}`, true},
		{`{"empty": [], "nested": [[[]]]}`, true},
		{`{"zero": "\u0000"}`, true},
		{`null`, true},
		{`{"lone": "\ud83d"}`, false},      // encoding/json writes U+FFFD
		{`{"low": "\ude00\ud83d"}`, false}, // the same
		{"{\"bad\": \"\xff\"}", false},     // invalid UTF-8: U+FFFD too
		{`{"a": 1} trailing`, false},       // Decoder.Decode stops after the value
		{`{"a": 01}`, false},               // an error
		{`{"a": 1,}`, false},               // an error
		{`{"a": tru}`, false},              // an error
		{`{"a": "x` + "\n" + `"}`, false},  // a control character in a string
		{`[1, 2]`, false},                  // not an object: an error
		{`"text"`, false},                  // the same
		{`{"a": -}`, false},                // an error
		{`{"a": 1.}`, false},               // an error
		{`{"a": 1e}`, false},               // an error
		{`{"a": "\x"}`, false},             // an error
		{`{"a": "\u12"}`, false},           // an error
		{`{"a": 1`, false},                 // an error
		{strings.Repeat(`{"a":`, 10001) + `1` + strings.Repeat(`}`, 10001), false}, // too deep
		{strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000), true},
	} {
		var fast map[string]any
		handled := decodeObjectFast([]byte(tc.doc), &fast)
		require.Equal(t, tc.fast, handled, "%.60s", tc.doc)
		var slow map[string]any
		slowErr := decodeSlow([]byte(tc.doc), &slow)
		if handled {
			require.NoError(t, slowErr, "%.60s", tc.doc)
			require.Equal(t, slow, fast, "%.60s", tc.doc)
		}
		var exact map[string]any
		err := DecodeExact([]byte(tc.doc), &exact)
		require.Equal(t, slowErr, err, "%.60s", tc.doc)
		require.Equal(t, slow, exact, "%.60s", tc.doc)
	}
}

func TestDecodeObjectFastMergesIntoAGivenMap(t *testing.T) {
	t.Parallel()
	fast, slow := map[string]any{"kept": "k", "a": 0}, map[string]any{"kept": "k", "a": 0}
	require.True(t, decodeObjectFast([]byte(`{"a": 1, "b": 2}`), &fast))
	require.NoError(t, decodeSlow([]byte(`{"a": 1, "b": 2}`), &slow))
	require.Equal(t, slow, fast)
	require.True(t, decodeObjectFast([]byte(`null`), &fast))
	require.NoError(t, decodeSlow([]byte(`null`), &slow))
	require.Nil(t, fast)
	require.Nil(t, slow)
}

// FuzzDecodeObjectFast: whatever the fast path accepts, encoding/json
// decodes to the same value.
func FuzzDecodeObjectFast(f *testing.F) {
	for _, s := range []string{`{}`, `{"a": [1, "b", {"c": null}], "d": -1.5e3}`, `{"s": "\u00e9\ud83d\ude00\n"}`, `null`, `{"a": 1} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fast map[string]any
		if !decodeObjectFast(raw, &fast) {
			return
		}
		var slow map[string]any
		if err := decodeSlow(raw, &slow); err != nil {
			t.Fatalf("fast decoded %q, encoding/json failed: %v", raw, err)
		}
		require.Equal(t, slow, fast)
	})
}

// BenchmarkDecodeExact decodes properties as PostgreSQL writes them out of
// jsonb, as processing does for every claimed event.
func BenchmarkDecodeExact(b *testing.B) {
	raw := []byte(`{"url": "https://shop.example.com/products/blue-shirt?ref=mail", "email": "user.4711@example.com", "price": 49.90, "items": [{"sku": "BS-42", "qty": 2}, {"sku": "SK-7", "qty": 1}], "ip_addr": "106.51.148.72", "campaign": "winter-sale", "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"}`)
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := DecodeExact(raw, &m); err != nil {
			b.Fatal(err)
		}
	}
}
