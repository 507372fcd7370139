package delivery

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPanelShareOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                          string
		concurrency, configured, want int
	}{
		{"default is half the worker", 50, 0, 25},
		{"at least one slot", 1, 0, 1},
		{"odd worker rounds down", 5, 0, 2},
		{"configured wins", 50, 10, 10},
		{"negative turns the cap off", 50, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, panelShareOf(tc.concurrency, tc.configured))
		})
	}
}

func TestPanelShareCapsEachPanelAlone(t *testing.T) {
	t.Parallel()
	s := &panelShare{max: 2}
	require.True(t, s.acquire(1))
	require.True(t, s.acquire(1))
	require.False(t, s.acquire(1), "panel 1 holds its share")
	require.True(t, s.acquire(2), "another panel is not held back")
	s.release(1)
	require.True(t, s.acquire(1), "a released slot can be taken again")
	s.release(1)
	s.release(1)
	s.release(2)
	require.Empty(t, s.used, "nothing is left behind")

	off := &panelShare{max: -1}
	for range 10 {
		require.True(t, off.acquire(1))
	}
	var none *panelShare
	require.True(t, none.acquire(1))
	none.release(1)
}
