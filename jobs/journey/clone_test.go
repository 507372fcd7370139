package journey

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestCopyName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100) // 200 bytes
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"first", "Welcome", 1, "Copy of Welcome"},
		{"numbered", "Welcome", 3, "Copy of Welcome (3)"},
		{"cut to 200 bytes at a character", long, 2, "Copy of " + strings.Repeat("é", 94) + " (2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := copyName(tc.in, tc.n)
			require.Equal(t, tc.want, got)
			require.LessOrEqual(t, len(got), 200)
			require.True(t, utf8.ValidString(got))
		})
	}
}
