package models

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
)

// A rendering is bounded in work as well as in output (maxRenderBytes):
// loops nested over events, or over a list the template split out of a
// string, multiply, and the worker renders on the delivery path.
// osteele/liquid v1.6.0 takes no context and counts nothing, and a
// goroutine given up on would burn on, so each loop's body is made to start
// with a step node of Herald's (instrumentLoops) that charges the rendering's
// budget once per pass and fails it when the budget or the time runs out.
const (
	// maxRenderSteps: a pass through a loop costs 1 plus the nodes directly
	// in its body. A loop over 1000 events of 30 nodes costs 31 K, an inner
	// loop over 20 entries of 20 nodes each adds 420 K; a loop nested over
	// 1000 events costs 1 M passes on its own (about 0.7 s of a core).
	maxRenderSteps = 1_000_000
	// maxRenderTime bounds what steps do not see: a body whose nodes are
	// costly in themselves.
	maxRenderTime = 2 * time.Second
)

// budgetVar holds a rendering's budget among its variables. It is not a
// Liquid name, so a template can neither assign nor read it.
const budgetVar = "#herald render budget"

// stepTag is the tag of the step node.
const stepTag = "herald_loop_step"

var (
	// Both say "loops run too long": which bound a rendering meets first
	// depends on the machine's load.
	errRenderSteps = fmt.Errorf("loops run too long (more than %d steps; a loop nested over events, or over a large list, "+
		"multiplies): loop over events once", maxRenderSteps)
	errRenderTime = fmt.Errorf("loops run too long (more than %v)", maxRenderTime)
	errInclude    = errors.New("include is not supported: a template has only its variables")
)

// renderBudget is what is left to one rendering.
type renderBudget struct {
	steps    int
	deadline time.Time
	// bytes are what assign stored (webhook_template_values.go).
	bytes int
}

// newLiquidEngine is the engine of body templates, with the step tag,
// without include (which reads files from the disk), with its values
// bounded (boundValues), and the step node instrumentLoops copies.
func newLiquidEngine() (*liquid.Engine, *render.TagNode) {
	e := liquid.NewEngine()
	boundValues(e)
	e.RegisterTag("include", func(render.Context) (string, error) { return "", errInclude })
	e.RegisterTag(stepTag, func(ctx render.Context) (string, error) {
		b, ok := ctx.Get(budgetVar).(*renderBudget)
		if !ok {
			return "", nil
		}
		// A template may type the tag itself: its weight is never below 1.
		w, _ := strconv.Atoi(ctx.TagArgs())
		b.steps -= max(w, 1)
		switch {
		case b.steps < 0:
			return "", errRenderSteps
		case time.Now().After(b.deadline):
			return "", errRenderTime
		}
		return "", nil
	})
	tpl, err := e.ParseString("{% " + stepTag + " %}")
	if err != nil {
		panic(err)
	}
	return e, tpl.GetRoot().(*render.SeqNode).Children[0].(*render.TagNode)
}

// instrumentLoops puts a step node first in the body of every for and
// tablerow loop of a compiled template. The node bears the loop's place,
// so an exhausted budget is reported at the loop.
func instrumentLoops(n render.Node, step *render.TagNode) {
	switch n := n.(type) {
	case *render.SeqNode:
		for _, c := range n.Children {
			instrumentLoops(c, step)
		}
	case *render.BlockNode:
		for _, c := range n.Body {
			instrumentLoops(c, step)
		}
		for _, c := range n.Clauses {
			instrumentLoops(c, step)
		}
		if n.Name == "for" || n.Name == "tablerow" {
			s := *step
			s.Token = parser.Token{Type: parser.TagTokenType, SourceLoc: n.SourceLoc, Name: stepTag,
				Args: strconv.Itoa(1 + len(n.Body)), Source: n.Source}
			n.Body = append([]render.Node{&s}, n.Body...)
		}
	}
}

// budgeted is vars with a fresh budget.
func budgeted(vars map[string]any) map[string]any {
	out := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	out[budgetVar] = &renderBudget{steps: maxRenderSteps, deadline: time.Now().Add(maxRenderTime)}
	return out
}
