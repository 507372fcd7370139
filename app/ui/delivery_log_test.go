package ui

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCellText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"=1+1", "'=1+1"},
		{"+49 151", "'+49 151"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, cellText(tc.in))
		})
	}
}

func TestReplayMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		n                int64
		asked            int
		selected, active bool
		want             string
	}{
		{"all of the selection", 2, 2, true, true, "Queued 2 deliveries for replay."},
		{"part of the selection", 1, 3, true, true, "Queued 1 of 3 selected for replay; 2 not failed or delivered (still on its way) left as is."},
		{"none of the selection", 0, 2, true, true, "Nothing was replayed: none of the 2 selected is failed or delivered (still on its way)."},
		{"selection, webhook out of service", 1, 1, true, false, "Queued 1 delivery for replay. They go out when the webhook is enabled."},
		{"every failed", 4, 0, false, true, "Sending 4 deliveries again."},
		{"every failed, none", 0, 0, false, true, "Nothing to replay."},
		{"one row, out of service", 1, 1, false, false, "1 delivery will go out again when the webhook is enabled."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, replayMessage(tc.n, tc.asked, tc.selected, tc.active))
		})
	}
}
