package journey

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDueSoon(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		until time.Time
		want  bool
	}{
		{"overdue", now.Add(-time.Second), true},
		{"now", now, true},
		{"within the horizon", now.Add(30 * time.Second), true},
		{"at the horizon", now.Add(TimerHorizon), true},
		{"just past the horizon", now.Add(TimerHorizon + time.Millisecond), false},
		{"a month off", now.Add(30 * 24 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, dueSoon(tc.until, now))
		})
	}
}
