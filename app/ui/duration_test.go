package ui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A duration typed as a number and a unit becomes the API's Go duration,
// within bounds, and a stored one comes back as the form and words show it.
func TestDurationField(t *testing.T) {
	t.Parallel()
	lo, hi := time.Second, 90*24*time.Hour
	for _, tc := range []struct {
		name, number, unit string
		want               string // the stored Go duration
		err                string
	}{
		{name: "minutes", number: "30", unit: "minutes", want: "30m"},
		{name: "days", number: "3", unit: "days", want: "72h"},
		{name: "decimal hours", number: "1.5", unit: "hours", want: "1h30m"},
		{name: "spaces", number: " 45 ", unit: "seconds", want: "45s"},
		{name: "half a second is too short", number: "0.5", unit: "seconds", err: "must be at least 1 second"},
		{name: "the longest", number: "90", unit: "days", want: "2160h"},
		{name: "zero", number: "0", unit: "minutes", err: "must be more than 0 (at least 1 second)"},
		{name: "negative", number: "-5", unit: "hours", err: "must be more than 0 (at least 1 second)"},
		{name: "too large", number: "91", unit: "days", err: "must be at most 90 days"},
		{name: "huge", number: "1e300", unit: "days", err: "must be at most 90 days"},
		{name: "beyond float", number: "1e999", unit: "days", err: "must be at most 90 days"},
		{name: "infinite", number: "Inf", unit: "days", err: "must be at most 90 days"},
		{name: "not a number", number: "soon", unit: "minutes", err: "must be a number, such as 30 or 1.5"},
		{name: "NaN", number: "NaN", unit: "minutes", err: "must be a number, such as 30 or 1.5"},
		{name: "empty", number: "", unit: "minutes", err: "type a number"},
		{name: "unknown unit", number: "3", unit: "weeks", err: "pick a unit: seconds, minutes, hours or days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := parseDuration(durationField{Number: tc.number, Unit: tc.unit}, lo, hi)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, goDuration(d))
		})
	}
}

func TestDurationShown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stored       string
		number, unit string
		words        string
	}{
		{"30m", "30", "minutes", "30 minutes"},
		{"1h", "1", "hours", "1 hour"},
		{"90m", "90", "minutes", "90 minutes"},
		{"48h", "2", "days", "2 days"},
		{"24h0m0s", "1", "days", "1 day"},
		{"1500ms", "1.5", "seconds", "1.5 seconds"},
		{"", "", "minutes", "“”"},
		{"soon", "soon", "", "“soon”"},
	} {
		t.Run(tc.stored, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, durationField{Number: tc.number, Unit: tc.unit}, splitStored(tc.stored))
			require.Equal(t, tc.words, storedWords(tc.stored))
		})
	}
}

// The webhook's batch wait is typed in seconds and kept in milliseconds.
func TestBatchWaitSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typed, shown string
		ms           int
		err          string
	}{
		{"1", "1", 1000, ""},
		{"0.5", "0.5", 500, ""},
		{"0", "0", 0, ""},
		{" 300 ", "300", 300_000, ""},
		{"0.25", "0.25", 250, ""},
		{"0.0004", "", 0, "must be whole milliseconds (at most 3 decimals)"},
		{"300.001", "", 0, "must be between 0 and 300 seconds"},
		{"-1", "", 0, "must be between 0 and 300 seconds"},
		{"Inf", "", 0, "must be between 0 and 300 seconds"},
		{"1,5", "", 0, "must be a number of seconds, such as 1 or 0.5"},
		{"NaN", "", 0, "must be a number of seconds, such as 1 or 0.5"},
		{"", "", 0, "type a number of seconds (0 sends at once)"},
	} {
		t.Run(tc.typed, func(t *testing.T) {
			t.Parallel()
			ms, err := parseSeconds(tc.typed, 300_000)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.ms, ms)
			require.Equal(t, tc.shown, secondsText(ms), "the form shows it back in seconds")
		})
	}
}
