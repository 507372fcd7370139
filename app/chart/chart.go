// Package chart draws the small line charts of the web UI as inline SVG:
// data in, markup out, nothing loaded by the browser and nothing to run
// there. It is pure, so its output is tested against golden files.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Series is one line of a chart. NaN values are buckets without data: the
// line breaks there instead of dropping to zero.
type Series struct {
	Name   string
	Values []float64
}

// Line is a line chart over evenly spaced time buckets.
type Line struct {
	// Title names the chart for screen readers (the page shows its own heading).
	Title string
	// Unit follows the numbers on the y axis ("ms", "%"); may be empty.
	Unit string
	// Start is the time of the first bucket; Step the width of each.
	Start time.Time
	Step  time.Duration
	// Series share the buckets; at most four are told apart by colour.
	Series []Series
	// Max fixes the top of the y axis (100 for a percentage); 0 fits the data.
	Max float64
	// Empty is shown instead of lines when no series has a value.
	Empty string
	// Location is the time zone of the time labels (the panel's); nil is UTC.
	Location *time.Location
}

// at is the time of bucket i in the chart's zone.
func (c Line) at(i int) time.Time {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	return c.Start.Add(time.Duration(i) * c.Step).In(loc)
}

// Geometry of the drawing, in viewBox units; the SVG scales to its box.
// The text must stay readable once scaled: a chart card is never narrower
// than MinWidth CSS pixels (the .grid.three column of web/app.css, 17rem,
// less its padding), so FontSize units never render below
// FontSize*MinWidth/Width = 12 px.
const (
	Width    = 300
	MinWidth = 240
	FontSize = 15
	width    = Width
	height   = 180
	left     = 60
	right    = 10
	top      = 28
	bottom   = 24
	plotW    = width - left - right
	plotH    = height - top - bottom
	xLabels  = 4
)

// SVG renders the chart.
func (c Line) SVG() template.HTML {
	var b strings.Builder
	n := c.buckets()
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" font-size="%d" role="img" aria-label="%s">`,
		width, height, FontSize, html.EscapeString(c.Title))
	fmt.Fprintf(&b, "\n<title>%s</title>", html.EscapeString(c.Title))
	peak, hasData := c.peak()
	ticks := Ticks(math.Max(peak, c.Max))
	ymax := ticks[len(ticks)-1]
	for _, t := range ticks {
		y := yOf(t, ymax)
		fmt.Fprintf(&b, "\n"+`<line class="grid" x1="%d" y1="%s" x2="%d" y2="%s"/>`, left, f1(y), width-right, f1(y))
		fmt.Fprintf(&b, "\n"+`<text class="ylabel" x="%d" y="%s" text-anchor="end">%s</text>`, left-6, f1(y+5), html.EscapeString(Number(t)+c.Unit))
	}
	for _, i := range labelIndexes(n) {
		at := c.at(i)
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case n - 1:
			anchor = "end"
		}
		fmt.Fprintf(&b, "\n"+`<text class="xlabel" x="%s" y="%d" text-anchor="%s">%s</text>`, f1(xOf(i, n)), height-6, anchor, at.Format("15:04"))
	}
	if !hasData {
		fmt.Fprintf(&b, "\n"+`<text class="empty" x="%d" y="%d" text-anchor="middle">%s</text>`, left+plotW/2, top+plotH/2, html.EscapeString(c.Empty))
	}
	legendX := 4
	for si, s := range c.Series {
		fmt.Fprintf(&b, "\n"+`<g class="series s%d">`, si)
		for _, run := range runs(s.Values) {
			if len(run) == 1 {
				i := run[0]
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5"/>`, f1(xOf(i, n)), f1(yOf(s.Values[i], ymax)))
				continue
			}
			pts := make([]string, len(run))
			for k, i := range run {
				pts[k] = f1(xOf(i, n)) + "," + f1(yOf(s.Values[i], ymax))
			}
			fmt.Fprintf(&b, `<polyline points="%s"/>`, strings.Join(pts, " "))
		}
		b.WriteString(`</g>`)
		// The legend: a short stroke and the name, along the top, each
		// name as wide as its letters (about half the font size each).
		fmt.Fprintf(&b, "\n"+`<g class="legend s%d"><line x1="%d" y1="12" x2="%d" y2="12"/><text x="%d" y="17">%s</text></g>`,
			si, legendX, legendX+16, legendX+22, html.EscapeString(s.Name))
		legendX += 22 + len([]rune(s.Name))*FontSize*55/100 + 14
	}
	b.WriteString("\n</svg>")
	return template.HTML(b.String()) // every piece of text above is escaped
}

// Table renders the chart's numbers as a table, for people who cannot see
// the lines (or want the exact figures): one row per bucket, one column per
// series, "no data" where a line has a gap. It is closed by default under
// the chart.
func (c Line) Table() template.HTML {
	var b strings.Builder
	b.WriteString(`<details class="chart-table"><summary>Show as a table</summary>`)
	fmt.Fprintf(&b, "\n<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">Time (%s)</th>", html.EscapeString(c.Title),
		html.EscapeString(c.at(0).Location().String()))
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<th scope="col" class="num">%s</th>`, html.EscapeString(s.Name))
	}
	b.WriteString("</tr></thead>\n<tbody>")
	for i := range c.buckets() {
		fmt.Fprintf(&b, "\n"+`<tr><th scope="row">%s</th>`, c.at(i).Format("15:04"))
		for _, s := range c.Series {
			cell := "no data"
			if i < len(s.Values) && !math.IsNaN(s.Values[i]) {
				cell = trim(s.Values[i]) + c.Unit
			}
			fmt.Fprintf(&b, `<td class="num">%s</td>`, html.EscapeString(cell))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("\n</tbody>\n</table></details>")
	return template.HTML(b.String()) // every piece of text above is escaped
}

// buckets is the number of buckets, the longest series.
func (c Line) buckets() int {
	n := 0
	for _, s := range c.Series {
		n = max(n, len(s.Values))
	}
	return n
}

// peak is the largest value of any series, and whether there was one.
func (c Line) peak() (float64, bool) {
	peak, seen := 0.0, false
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				peak, seen = math.Max(peak, v), true
			}
		}
	}
	return peak, seen
}

func xOf(i, n int) float64 {
	if n <= 1 {
		return left + plotW/2
	}
	return left + float64(i)*plotW/float64(n-1)
}

func yOf(v, ymax float64) float64 { return top + plotH*(1-v/ymax) }

// runs splits the indexes of values into runs without NaN.
func runs(values []float64) [][]int {
	var out [][]int
	var cur []int
	for i, v := range values {
		if math.IsNaN(v) {
			if len(cur) > 0 {
				out, cur = append(out, cur), nil
			}
			continue
		}
		cur = append(cur, i)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// labelIndexes are the buckets labelled on the x axis: both ends and
// evenly between.
func labelIndexes(n int) []int {
	if n <= 0 {
		return nil
	}
	if n <= xLabels {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, xLabels)
	for k := range out {
		out[k] = k * (n - 1) / (xLabels - 1)
	}
	return out
}

// Ticks are the y axis values for data up to peak: 0 and steps of 1, 2,
// 2.5 or 5 times a power of ten, the last at or above peak, about four in all.
func Ticks(peak float64) []float64 {
	if !(peak > 0) || math.IsInf(peak, 0) {
		peak = 1
	}
	raw := peak / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for i := 0; ; i++ {
		v := float64(i) * step
		out = append(out, v)
		if v >= peak-step*1e-9 {
			return out
		}
	}
}

// Number writes an axis value briefly: 1500 → 1.5k, 0.25 → 0.25.
func Number(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e3:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
