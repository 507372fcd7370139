package chart_test

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/chart"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		peak float64
		want []float64
	}{
		{0, []float64{0, 0.25, 0.5, 0.75, 1}},
		{math.NaN(), []float64{0, 0.25, 0.5, 0.75, 1}},
		{1, []float64{0, 0.25, 0.5, 0.75, 1}},
		{3, []float64{0, 1, 2, 3}},
		{7, []float64{0, 2, 4, 6, 8}},
		{100, []float64{0, 25, 50, 75, 100}},
		{123, []float64{0, 50, 100, 150}},
		{980, []float64{0, 250, 500, 750, 1000}},
		{4000, []float64{0, 1000, 2000, 3000, 4000}},
	} {
		got := chart.Ticks(tc.peak)
		require.InDeltaSlice(t, tc.want, got, 1e-9, "peak %v", tc.peak)
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for v, want := range map[float64]string{0: "0", 0.25: "0.25", 12: "12", 1500: "1.5k", 2_000_000: "2M", 99.999: "100"} {
		require.Equal(t, want, chart.Number(v), "%v", v)
	}
}

// TestLineGolden pins the markup of the webhook page's charts: gaps where a
// bucket had no requests, a lone point as a dot, a fixed percentage axis,
// and the empty state.
func TestLineGolden(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	nan := math.NaN()
	for name, c := range map[string]chart.Line{
		"deliveries": {Title: "Deliveries per minute", Start: start, Step: time.Minute,
			Series: []chart.Series{{Name: "delivered", Values: []float64{0, 4, 9, 12, 3, 0, 0, 7}},
				{Name: "failed", Values: []float64{0, 0, 1, 0, 0, 2, 0, 0}}}},
		"success_rate": {Title: "Success rate", Unit: "%", Max: 100, Start: start, Step: 15 * time.Minute,
			Series: []chart.Series{{Name: "2xx", Values: []float64{100, 100, nan, 50, nan, 75, 100}}}},
		"latency": {Title: "Latency", Unit: "ms", Start: start, Step: time.Minute,
			Series: []chart.Series{{Name: "p50", Values: []float64{nan, 120, 80, nan, 95, nan}},
				{Name: "p95 <slow>", Values: []float64{nan, 480, 210, nan, 300, nan}}}},
		"empty": {Title: "Latency", Unit: "ms", Start: start, Step: time.Minute, Empty: "No requests in this period",
			Series: []chart.Series{{Name: "p50", Values: []float64{nan, nan, nan}}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := string(c.SVG())
			path := filepath.Join("testdata", name+".svg")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got+"\n"), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./app/chart -update to create the golden files")
			require.Equal(t, string(want), got+"\n")
		})
	}
}

// TestTextReadable: the chart's text, scaled down to the narrowest chart
// card, is still at least 12 px, and the SVG carries that font size.
func TestTextReadable(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, float64(chart.FontSize)*chart.MinWidth/chart.Width, 12.0)
	svg := string(chart.Line{Title: "t", Series: []chart.Series{{Name: "a", Values: []float64{1}}}}.SVG())
	require.Contains(t, svg, `viewBox="0 0 300 180" font-size="15"`)
}

// TestLineTable: the table under a chart holds every number the lines draw,
// bucket by bucket, and says where a line has a gap.
func TestLineTable(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c := chart.Line{Title: "Latency <p>", Unit: "ms", Start: start, Step: 15 * time.Minute,
		Series: []chart.Series{{Name: "p50", Values: []float64{math.NaN(), 120, 80.456}},
			{Name: "p95 <slow>", Values: []float64{math.NaN(), 480, 1500}}}}
	got := string(c.Table())
	for _, want := range []string{
		`<details class="chart-table"><summary>Show as a table</summary>`,
		`<caption>Latency &lt;p&gt;</caption>`,
		`<th scope="col">Time (UTC)</th><th scope="col" class="num">p50</th><th scope="col" class="num">p95 &lt;slow&gt;</th>`,
		`<tr><th scope="row">12:00</th><td class="num">no data</td><td class="num">no data</td></tr>`,
		`<tr><th scope="row">12:15</th><td class="num">120ms</td><td class="num">480ms</td></tr>`,
		`<tr><th scope="row">12:30</th><td class="num">80.46ms</td><td class="num">1500ms</td></tr>`,
	} {
		require.Contains(t, got, want)
	}
}
