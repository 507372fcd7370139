package models_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

// Numbers that jsonb would write out far longer than they were sent are
// refused, one by its exponent and many by what they add together (found
// by review: 1e131000 read back as 131,001 digits, a body of 1e1000s,
// each under the bound, read back 143 times larger, and 16,401 fraction
// digits could not be stored at all).
func TestCheckNumbers(t *testing.T) {
	t.Parallel()
	many := func(n int, num string) string { return "[" + strings.Repeat(num+",", n-1) + num + "]" }
	long := "0." + strings.Repeat("0", 16400) + "1"
	for _, tc := range []struct {
		name, doc, path string
		growth, bad     bool
	}{
		{name: "ordinary", doc: `{"a": 1, "b": -2.5, "c": [0, 1e3, 2E-7, 12345678901234567890]}`},
		{name: "one at the bound", doc: `{"a": 1e1000}`},
		{name: "negative at the bound", doc: `{"a": -2.5e-1000}`},
		{name: "text is not a number", doc: `{"e": "1e99999"}`},
		{name: "over the bound", doc: `{"user": {"score": 1e1001}}`, path: "user.score", bad: true},
		{name: "negative over", doc: `{"a": [1, -5.5e-131000]}`, path: "a[1]", bad: true},
		{name: "long exponent", doc: `{"a": 1e000000000000002000}`, path: "a", bad: true},
		{name: "long exponent, small", doc: `{"a": 1e0000000000000000999}`},
		{name: "more fraction digits than numeric keeps", doc: `{"a": ` + long + `}`, path: "a", bad: true},
		{name: "small exponents, many", doc: many(5000, "1e-7")},
		{name: "scientific data", doc: `{"a": ` + many(600, "6.02e23") + `, "b": ` + many(400, "3.2e-20") + `, "c": ` + many(300, "1.5e+21") + `}`},
		{name: "two at the bound", doc: many(2, "1e1000"), path: "[1]", growth: true, bad: true},
		{name: "a long document may", doc: many(20, "1e1000") + strings.Repeat(" ", 3000)},
		{name: "many fraction digits, negative exponent", doc: "0." + strings.Repeat("1", 992) + "e-1000"},
		// Zero written with any exponent PostgreSQL reads is "0" (and
		// its fraction digits left after the exponent): nothing grows.
		{name: "zero with a large exponent", doc: `{"a": 0e5000, "b": -0.00e999999, "c": [0E+131073, 0.0e7]}`},
		{name: "zero with an exponent numeric cannot read", doc: `{"a": 0e1000000}`, path: "a", bad: true},
		{name: "zero with a large negative exponent", doc: `{"a": 0e-2000}`, path: "a", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var v any
			require.NoError(t, models.DecodeExact([]byte(tc.doc), &v))
			bad := models.CheckNumbers(v, len(tc.doc))
			if !tc.bad {
				require.Nil(t, bad)
				return
			}
			require.NotNil(t, bad)
			require.Equal(t, tc.path, bad.Path)
			require.Equal(t, tc.growth, bad.Growth)
		})
	}
	require.Equal(t, "user.score: is a number with an exponent over 1000, or more digits than PostgreSQL keeps",
		models.CheckNumbers(map[string]any{"user": map[string]any{"score": json1e("1e2000")}}, 100).Error())
}

func json1e(s string) any {
	var v any
	_ = models.DecodeExact([]byte(s), &v)
	return v
}
