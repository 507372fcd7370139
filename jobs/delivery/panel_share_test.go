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
			t.Parallel()
			require.Equal(t, tc.want, panelShareOf(tc.concurrency, tc.configured))
		})
	}
}

func TestFairShare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		slots, busy, max, want int
	}{
		{"alone: half the worker", 50, 1, 25, 25},
		{"two busy panels: a third each", 50, 2, 25, 16},
		{"three: a quarter each", 50, 3, 25, 12},
		{"the cap bounds a share", 50, 1, 10, 10},
		{"four slots, alone", 4, 1, 2, 2},
		{"four slots, two panels", 4, 2, 2, 1},
		{"many panels: the share may reach 0", 4, 9, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, fairShare(tc.slots, tc.busy, tc.max))
		})
	}
}

func TestPanelShareKeepsSlotsForOthers(t *testing.T) {
	t.Parallel()
	s := &panelShare{slots: 6, max: 3}
	take := func(panel int64) int {
		n := 0
		for s.acquire(panel) {
			n++
		}
		return n
	}
	require.Equal(t, 3, take(1), "alone, panel 1 takes half the worker")
	require.Equal(t, 2, take(2), "panel 2 takes a third of it")
	require.Equal(t, 1, take(3), "a third panel still finds a slot, and more hanging panels would too")
	require.Equal(t, 1, take(4), "a panel holding none may always take one")

	s.release(1)
	require.False(t, s.acquire(1), "panel 1 is above its new share (6/5 = 1) and waits for its requests to end")
	for range 2 {
		s.release(1)
	}
	require.True(t, s.acquire(1), "it gets one again once it holds none")
	s.release(1)
	for _, p := range []int64{2, 2, 3, 4} {
		s.release(p)
	}
	require.Empty(t, s.used, "nothing is left behind")

	for _, off := range []*panelShare{{slots: 4, max: -1}, {slots: 4, max: 4}} {
		for range 10 {
			require.True(t, off.acquire(1), "sharing is off")
		}
	}
	var none *panelShare
	require.True(t, none.acquire(1))
	none.release(1)
}
