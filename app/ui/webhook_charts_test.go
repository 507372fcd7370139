package ui

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestChartRangeBounds(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 12, 7, 30, 0, time.UTC)
	for _, tc := range []struct {
		key      string
		from, to time.Time
	}{
		{"1h", time.Date(2025, 3, 4, 11, 8, 0, 0, time.UTC), time.Date(2025, 3, 4, 12, 8, 0, 0, time.UTC)},
		{"24h", time.Date(2025, 3, 3, 12, 15, 0, 0, time.UTC), time.Date(2025, 3, 4, 12, 15, 0, 0, time.UTC)},
		{"bogus", time.Date(2025, 3, 4, 11, 8, 0, 0, time.UTC), time.Date(2025, 3, 4, 12, 8, 0, 0, time.UTC)},
	} {
		from, to := pickRange(tc.key).bounds(now)
		require.Equal(t, tc.from, from, tc.key)
		require.Equal(t, tc.to, to, tc.key)
	}
}

func TestWebhookCharts(t *testing.T) {
	t.Parallel()
	ms := func(v float64) *float64 { return &v }
	start := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		buckets   []models.AttemptBucket
		step      time.Duration
		summaries []string
		cells     [][]string // numbers each chart's table must hold
	}{
		{"quiet", []models.AttemptBucket{{Start: start}, {Start: start.Add(time.Minute)}}, time.Minute,
			[]string{"0 delivered, 0 failed or retried", "no requests", "no requests"},
			[][]string{{`<td class="num">0</td><td class="num">0</td>`}, {`<td class="num">no data</td>`}, {`<td class="num">no data</td>`}}},
		{"busy", []models.AttemptBucket{
			{Start: start, Attempts: 4, Succeeded: 3, DeliveredItems: 300, FailedItems: 100, P50: ms(40), P95: ms(90)},
			{Start: start.Add(15 * time.Minute)},
			{Start: start.Add(30 * time.Minute), Attempts: 1, Succeeded: 1, DeliveredItems: 15, P50: ms(30), P95: ms(120)},
		}, 15 * time.Minute,
			[]string{"315 delivered, 100 failed or retried", "80.0% of 5 requests", "slowest p95: 120 ms"},
			[][]string{
				{`<th scope="row">12:00</th><td class="num">20</td><td class="num">6.67</td>`, `<th scope="row">12:30</th><td class="num">1</td><td class="num">0</td>`},
				{`<th scope="row">12:00</th><td class="num">75%</td>`, `<th scope="row">12:15</th><td class="num">no data</td>`, `<th scope="row">12:30</th><td class="num">100%</td>`},
				{`<th scope="row">12:00</th><td class="num">40ms</td><td class="num">90ms</td>`, `<th scope="row">12:30</th><td class="num">30ms</td><td class="num">120ms</td>`},
			}},
	} {
		got := webhookCharts(tc.buckets, tc.step, time.UTC)
		require.Len(t, got, 3, tc.name)
		for i, want := range tc.summaries {
			require.Equal(t, want, got[i].Summary, tc.name)
			require.Contains(t, string(got[i].SVG), "<svg", tc.name)
			for _, cell := range tc.cells[i] {
				require.Contains(t, string(got[i].Table), cell, tc.name)
			}
		}
	}
}
