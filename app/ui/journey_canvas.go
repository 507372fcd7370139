package ui

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// The canvas draws a journey as a graph: each step a box with its live
// counts, each exit an arrow labelled with its name and how many runs took
// it. The layout is pure (canvasLayout); the template writes it as inline
// SVG, whose links (the step to edit it, each count to the runs or
// deliveries behind it) are reachable with the keyboard.

// Geometry of the canvas, in SVG units.
const (
	boxW    = 230
	boxH    = 134
	gapX    = 50
	gapY    = 64
	margin  = 16
	lineGap = 17
)

type canvas struct {
	Width, Height int
	Nodes         []canvasNode
	Edges         []canvasEdge
}

type canvasNode struct {
	// Label names the step as the builder's drop-downs do; Head is it
	// clipped to the box. The id stays in element ids and links only.
	ID, Label, Head, Summary, Type string
	X, Y                           int
	// TextX, HeadY and SummaryY place the step's texts.
	TextX, HeadY, SummaryY int
	// Href opens the step's side form.
	Href  string
	Lines []canvasLine
}

// canvasLine is a count on a step; Href lists what it counts.
type canvasLine struct {
	Text, Href string
	X, Y       int
	Bad        bool // a count of failures, drawn as one
}

type canvasEdge struct {
	// Path is the SVG path from one box to the next.
	Path   string
	Label  string
	LX, LY int
}

// exitLabels name a step's exits on the canvas.
var exitLabels = map[string]string{journey.ExitNext: "then", journey.ExitHappened: "happened", journey.ExitTimeout: "timed out",
	journey.ExitDelivered: "delivered", journey.ExitFailed: "failed for good"}

type canvasExit struct{ name, to string }

func nodeExits(n *journey.Node) []canvasExit {
	switch n.Type {
	case journey.TypeWait:
		return []canvasExit{{journey.ExitHappened, n.Happened}, {journey.ExitTimeout, n.Timeout}}
	case journey.TypeStop:
		return nil
	}
	if n.AwaitsOutcome() {
		var out []canvasExit
		for _, delivered := range []bool{true, false} {
			e := canvasExit{n.OutcomeExitName(delivered), n.OutcomeExit(delivered)}
			if len(out) == 0 || out[0] != e {
				out = append(out, e)
			}
		}
		return out
	}
	return []canvasExit{{journey.ExitNext, n.Next}}
}

// canvasGrid places the steps: the row is the longest way from the trigger
// (back edges of loops ignored), the column follows the branches (a wait's
// "happened" below it, "timeout" to its right). Steps nothing leads to go
// in a last row.
func canvasGrid(d *journey.Definition) map[string][2]int {
	order := stepOrder(d)
	row := map[string]int{}
	col := map[string]int{}
	onPath := map[string]bool{}
	seen := map[string]bool{}
	// Longest path by relaxing along a depth-first walk that skips back edges.
	var visit func(id string, r int)
	visit = func(id string, r int) {
		n := d.Node(id)
		if n == nil || onPath[id] || (seen[id] && row[id] >= r) {
			return
		}
		seen[id], row[id], onPath[id] = true, r, true
		for _, e := range nodeExits(n) {
			visit(e.to, r+1)
		}
		onPath[id] = false
	}
	if t := d.Trigger(); t != nil {
		visit(t.ID, 0)
	}
	last := 0
	for _, r := range row {
		last = max(last, r)
	}
	taken := map[[2]int]bool{}
	place := func(id string, c int) {
		for taken[[2]int{row[id], c}] {
			c++
		}
		col[id] = c
		taken[[2]int{row[id], c}] = true
	}
	nextCol := 0
	var branch func(id string, c int)
	branch = func(id string, c int) {
		if _, done := col[id]; done || d.Node(id) == nil || !seen[id] {
			return
		}
		place(id, c)
		for i, e := range nodeExits(d.Node(id)) {
			if i == 0 {
				branch(e.to, col[id])
				continue
			}
			nextCol++
			branch(e.to, max(nextCol, col[id]+1))
		}
	}
	if t := d.Trigger(); t != nil {
		branch(t.ID, 0)
	}
	orphans := 0
	for _, id := range order {
		if !seen[id] {
			row[id] = last + 1
			place(id, orphans)
			orphans = col[id] + 1
		}
	}
	out := map[string][2]int{}
	for _, id := range order {
		out[id] = [2]int{row[id], col[id]}
	}
	return out
}

// canvasLayout lays the journey out with its counts; names summarise the
// steps as the list does.
func canvasLayout(journeyID int64, d *journey.Definition, stats map[string]*models.NodeStats, names stepNames) canvas {
	grid := canvasGrid(d)
	var cv canvas
	pos := map[string][2]int{}
	base := "/journeys/" + strconv.FormatInt(journeyID, 10)
	labels := stepLabels(d, names)
	runs := func(v url.Values) string { return base + "/runs?" + v.Encode() }
	for _, id := range stepOrder(d) {
		n := d.Node(id)
		g := grid[id]
		x, y := margin+g[1]*(boxW+gapX), margin+g[0]*(boxH+gapY)
		pos[id] = [2]int{x, y}
		cv.Width, cv.Height = max(cv.Width, x+boxW+margin), max(cv.Height, y+boxH+margin)
		st := stats[id]
		if st == nil {
			st = &models.NodeStats{}
		}
		cn := canvasNode{ID: id, Label: labels[id], Head: clip(labels[id], 28), Summary: clip(stepSummary(n, names), 30), Type: n.Type,
			X: x, Y: y, TextX: x + 16, HeadY: y + 22, SummaryY: y + 42, Href: builderURL(journeyID, id)}
		if n.Type == journey.TypeStop {
			cn.Href = base + "#step-" + url.PathEscape(id)
		}
		lines := []canvasLine{{Text: fmt.Sprintf("%d entered", st.Entered), Href: runs(url.Values{"node": {id}})}}
		if n.Type == journey.TypeWait {
			lines = append(lines, canvasLine{Text: fmt.Sprintf("%d waiting now", st.Waiting),
				Href: runs(url.Values{"node": {id}, "status": {"waiting"}})})
		}
		if n.Type == journey.TypeWebhook {
			hook := "/webhooks/" + strconv.FormatInt(n.WebhookID, 10)
			lines = append(lines, canvasLine{Text: fmt.Sprintf("%d sent", st.Sent), Href: hook + "?status=delivered#logs"},
				canvasLine{Text: fmt.Sprintf("%d failed · %d held", st.Failed, st.Held), Href: hook + "?status=failed#logs"})
		}
		if st.Ended > 0 {
			lines = append(lines, canvasLine{Text: fmt.Sprintf("%d ended with an error", st.Ended), Bad: true,
				Href: runs(url.Values{"node": {id}, "status": {"ended"}})})
		}
		for i := range lines {
			lines[i].X, lines[i].Y = x+16, y+66+i*lineGap
		}
		cn.Lines = lines
		cv.Nodes = append(cv.Nodes, cn)
	}
	for _, id := range stepOrder(d) {
		n := d.Node(id)
		for _, e := range nodeExits(n) {
			to, ok := pos[e.to]
			if !ok {
				continue
			}
			from := pos[id]
			var taken int64
			if st := stats[id]; st != nil {
				taken = st.Exits[e.name]
			}
			x1, y1 := from[0]+boxW/2, from[1]+boxH
			x2, y2 := to[0]+boxW/2, to[1]
			if to[1] <= from[1] { // back up to an earlier step: round the right side
				x1, y1 = from[0]+boxW, from[1]+boxH/2
				x2, y2 = to[0]+boxW, to[1]+boxH/2
				cv.Edges = append(cv.Edges, canvasEdge{
					Path:  fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1+gapX, y1, x2+gapX, y2, x2+4, y2),
					Label: fmt.Sprintf("%s · %d", exitLabels[e.name], taken), LX: x1 + 6, LY: (y1 + y2) / 2})
				continue
			}
			mid := y1 + gapY/2
			cv.Edges = append(cv.Edges, canvasEdge{
				Path:  fmt.Sprintf("M%d %d C%d %d %d %d %d %d", x1, y1, x1, mid, x2, mid, x2, y2-4),
				Label: fmt.Sprintf("%s · %d", exitLabels[e.name], taken), LX: (x1+x2)/2 + 6, LY: mid + 4})
		}
	}
	return cv
}

// clip shortens text to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
