package models

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Ids of one millisecond keep their order though ids of other milliseconds
// (another store's clock, moved by a test) are made in between: with
// ulid.Monotonic the third id below was random against the first.
func TestNewULIDKeepsOrderAcrossInterleavedClocks(t *testing.T) {
	t.Parallel()
	now := time.Now()
	later := now.Add(6 * time.Minute)
	for range 200 {
		first := NewULID(now)
		_ = NewULID(later)
		second := NewULID(now)
		require.Negative(t, first.Compare(second), "made later in the same millisecond: sorts after")
		require.Negative(t, second.Compare(NewULID(later)))
		now, later = now.Add(time.Millisecond), later.Add(time.Millisecond)
	}
}

func TestIncrement(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   [16]byte
		want [16]byte
		ok   bool
	}{
		{"last byte", [16]byte{15: 1}, [16]byte{15: 2}, true},
		{"carry", [16]byte{14: 1, 15: 0xff}, [16]byte{14: 2}, true},
		{"the time is left alone", [16]byte{5: 7, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff},
			[16]byte{5: 7, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := increment(tc.in)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.want, [16]byte(got))
			}
		})
	}
}
