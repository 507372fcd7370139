package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

// A flush asked for because a batch was full sends whole batches; a part
// batch waits for its window's task, unless that window has ended.
func TestRowsToSend(t *testing.T) {
	t.Parallel()
	window := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // a window of a minute starts
	rows := func(n int, created time.Time) []models.ClaimedRow {
		out := make([]models.ClaimedRow, n)
		for i := range out {
			out[i].CreatedAt = created
		}
		return out
	}
	for _, c := range []struct {
		name  string
		rows  []models.ClaimedRow
		batch int
		wait  time.Duration
		now   time.Time
		want  int
	}{
		{"a whole batch goes", rows(3, window.Add(time.Second)), 3, time.Minute, window.Add(2 * time.Second), 3},
		{"whole batches go, the rest waits", rows(8, window.Add(time.Second)), 3, time.Minute, window.Add(2 * time.Second), 6},
		{"a part batch waits for its window", rows(2, window.Add(time.Second)), 3, time.Minute, window.Add(2 * time.Second), 0},
		{"to the window's last moment", rows(2, window), 3, time.Minute, window.Add(time.Minute - time.Nanosecond), 0},
		{"not past its end", rows(8, window), 3, time.Minute, window.Add(time.Minute), 8},
		{"the oldest row's window decides", append(rows(1, window.Add(-time.Second)), rows(1, window)...), 3, time.Minute, window.Add(time.Second), 2},
		{"no batch wait: nothing waits", rows(2, window), 3, 0, window, 2},
		{"nothing claimed", nil, 3, time.Minute, window, 0},
	} {
		require.Equal(t, c.want, rowsToSend(c.rows, c.batch, c.wait, c.now), c.name)
	}
}
