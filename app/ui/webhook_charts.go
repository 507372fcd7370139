package ui

import (
	"fmt"
	"html/template"
	"math"
	"time"

	"github.com/heraldhq/herald/app/chart"
	"github.com/heraldhq/herald/models"
)

// chartRange is a period the webhook page charts.
type chartRange struct {
	Key   string // the ?range= value
	Label string
	Span  time.Duration
	Step  time.Duration
}

var chartRanges = []chartRange{
	{"1h", "Last hour", time.Hour, time.Minute},
	{"24h", "Last day", 24 * time.Hour, 15 * time.Minute},
}

// pickRange reads ?range=; anything unknown is the first.
func pickRange(key string) chartRange {
	for _, r := range chartRanges {
		if r.Key == key {
			return r
		}
	}
	return chartRanges[0]
}

// bounds are the range's whole buckets ending with the current one.
func (r chartRange) bounds(now time.Time) (from, to time.Time) {
	to = now.Truncate(r.Step).Add(r.Step)
	return to.Add(-r.Span), to
}

// chartView is one chart with the figure people read first.
type chartView struct {
	Title   string
	Summary string
	SVG     template.HTML
	Table   template.HTML // the same numbers, for screen readers and exact reading
}

// webhookCharts turns buckets of requests into the page's three charts:
// deliveries per minute, the share of requests answered 2xx, and request
// latency, their times in loc (the panel's zone). Buckets without requests
// are gaps in the rate and latency lines, not zeros: nothing was measured there.
func webhookCharts(buckets []models.AttemptBucket, step time.Duration, loc *time.Location) []chartView {
	n := len(buckets)
	perMin := step.Minutes()
	delivered, failed := make([]float64, n), make([]float64, n)
	rate, p50, p95 := make([]float64, n), make([]float64, n), make([]float64, n)
	var items, failedItems, attempts, ok int64
	worst := math.NaN()
	for i, b := range buckets {
		delivered[i], failed[i] = float64(b.DeliveredItems)/perMin, float64(b.FailedItems)/perMin
		items, failedItems, attempts, ok = items+b.DeliveredItems, failedItems+b.FailedItems, attempts+b.Attempts, ok+b.Succeeded
		rate[i], p50[i], p95[i] = math.NaN(), math.NaN(), math.NaN()
		if b.Attempts > 0 {
			rate[i] = 100 * float64(b.Succeeded) / float64(b.Attempts)
		}
		if b.P50 != nil && b.P95 != nil {
			p50[i], p95[i] = *b.P50, *b.P95
			if math.IsNaN(worst) || *b.P95 > worst {
				worst = *b.P95
			}
		}
	}
	var start time.Time
	if n > 0 {
		start = buckets[0].Start
	}
	empty := "No requests in this period"
	view := func(title, summary, longTitle, unit string, maxY float64, series ...chart.Series) chartView {
		c := chart.Line{Title: longTitle, Unit: unit, Start: start, Step: step, Max: maxY, Empty: empty, Series: series, Location: loc}
		return chartView{Title: title, Summary: summary, SVG: c.SVG(), Table: c.Table()}
	}
	rateSummary, latencySummary := "no requests", "no requests"
	if attempts > 0 {
		rateSummary = fmt.Sprintf("%.1f%% of %d requests", 100*float64(ok)/float64(attempts), attempts)
		latencySummary = fmt.Sprintf("slowest p95: %.0f ms", worst)
	}
	return []chartView{
		view("Deliveries per minute", fmt.Sprintf("%d delivered, %d failed or retried", items, failedItems), "Deliveries per minute", "", 0,
			chart.Series{Name: "delivered", Values: delivered}, chart.Series{Name: "failed or retried", Values: failed}),
		view("Success rate", rateSummary, "Share of requests answered 2xx", "%", 100, chart.Series{Name: "answered 2xx", Values: rate}),
		view("Latency", latencySummary, "Request latency, p50 and p95", "ms", 0, chart.Series{Name: "p50", Values: p50}, chart.Series{Name: "p95", Values: p95}),
	}
}
