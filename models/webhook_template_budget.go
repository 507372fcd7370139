package models

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/osteele/liquid"
	"github.com/osteele/liquid/filters"
	"github.com/osteele/liquid/parser"
	"github.com/osteele/liquid/render"
)

// A rendering is bounded in work as well as in output (maxRenderBytes):
// loops nested over events, or over a list the template split out of a
// string, multiply, chains of filters multiply what a value holds, and the
// worker renders on the delivery path, the API server on every save,
// preview and test. osteele/liquid v1.6.0 takes no context and counts
// nothing, and a goroutine given up on would burn on, so Herald counts
// itself: each loop's body is made to start with a step node of Herald's
// (instrumentLoops) that charges the rendering's budget once per pass, a
// check node before every block looks at the clock (a condition may
// compare large values), and every filter, the library's own too, is
// wrapped (boundFilter) so that it looks at the clock before it runs and
// charges what it returns to the budget's work. Whichever runs out first
// fails the rendering.
const (
	// maxRenderSteps: a pass through a loop costs 1 plus the nodes directly
	// in its body. A loop over 1000 events of 30 nodes costs 31 K, an inner
	// loop over 20 entries of 20 nodes each adds 420 K; a loop nested over
	// 1000 events costs 1 M passes on its own (about 0.7 s of a core).
	maxRenderSteps = 1_000_000
	// maxRenderWork bounds the bytes the filters of one rendering return,
	// together: a body is at most maxRenderBytes, and a template that
	// builds it through a few filters a value stays far below this, while
	// a chain of replace and escape over megabytes (each pass bounded on
	// its own) no longer adds up to gigabytes and minutes.
	maxRenderWork = 8 * maxRenderBytes
	// maxRenderTime bounds what steps and work do not see: a body whose
	// nodes are costly in themselves.
	maxRenderTime = 2 * time.Second
)

// stepFilter is the filter of the step node, checkFilter of the check node.
const (
	stepFilter   = "herald_loop_step"
	checkFilter  = "herald_check"
	storedFilter = "herald_stored"
)

var (
	// Both say "loops run too long": which bound a rendering meets first
	// depends on the machine's load.
	errRenderSteps = fmt.Errorf("loops run too long (more than %d steps; a loop nested over events, or over a large list, "+
		"multiplies): loop over events once", maxRenderSteps)
	errLoopTime = fmt.Errorf("loops run too long (more than %v)", maxRenderTime)
	// errRenderTime is the deadline met outside a loop's step.
	errRenderTime = fmt.Errorf("the template runs too long (more than %v)", maxRenderTime)
	errRenderWork = fmt.Errorf("the filters return more than %d bytes in all (a chain of filters over a large value, "+
		"or a filter over events inside a loop over them): build less", maxRenderWork)
	errInclude = errors.New("include is not supported: a template has only its variables")
)

// renderBudget is what is left to one rendering.
type renderBudget struct {
	steps    int
	deadline time.Time
	// bytes are what assign stored (webhook_template_values.go).
	bytes int
	// work is what filters may still return (maxRenderWork).
	work int
}

func newRenderBudget() *renderBudget {
	return &renderBudget{steps: maxRenderSteps, work: maxRenderWork, deadline: time.Now().Add(maxRenderTime)}
}

// late fails a rendering past its deadline.
func (b *renderBudget) late() error {
	if time.Now().After(b.deadline) {
		return errRenderTime
	}
	return nil
}

// spendWork charges what a filter returned.
func (b *renderBudget) spendWork(n int) error {
	if b.work -= n; b.work < 0 {
		return errRenderWork
	}
	return nil
}

// liquidRenderer is an engine of body templates with the step and check
// nodes instrumentLoops copies, and the budget of the rendering it is
// doing: filters take no context, so each engine's filters close over
// their renderer, and a renderer renders one template at a time
// (renderers).
type liquidRenderer struct {
	engine *liquid.Engine
	// steps are the step nodes by weight, check the check node: outputs of
	// nil through Herald's filters, so they write nothing (a tag writes ""
	// even so, and a write takes up a pending right trim, which is meant
	// for what comes next).
	steps map[int]*render.ObjectNode
	// check is the check node outside loops, loopCheck inside one.
	check, loopCheck *render.ObjectNode
	// stored are the stored nodes by variable name (at most
	// maxStoredNodes): the output of what an assign stored through
	// storedFilter, which charges it to the budget and writes nothing.
	stored map[string]*render.ObjectNode
	budget *renderBudget
}

// maxStoredNodes bounds the stored nodes an engine keeps between
// renderings: each names a variable of some template.
const maxStoredNodes = 4 * maxAssignedNames

// renderers keeps the engines between renderings: an engine registers
// some sixty filters through reflection.
var renderers = sync.Pool{New: func() any { return newLiquidRenderer() }}

// newLiquidRenderer builds an engine with the step and check filters,
// without include (which reads files from the disk), with its values
// bounded (boundValues) and every filter wrapped by boundFilter.
func newLiquidRenderer() *liquidRenderer {
	r := &liquidRenderer{engine: liquid.NewEngine(), steps: map[int]*render.ObjectNode{}, stored: map[string]*render.ObjectNode{}}
	e := r.engine
	filters.AddStandardFilters(filterDictionary(func(name string, fn any) { e.RegisterFilter(name, r.boundFilter(fn)) }))
	boundValues(func(name string, fn any) { e.RegisterFilter(name, r.boundFilter(fn)) })
	e.RegisterTag("include", func(render.Context) (string, error) { return "", errInclude })
	e.RegisterFilter(stepFilter, func(_ any, weight int) (any, error) {
		b := r.budget
		if b == nil {
			return nil, nil
		}
		// A template may type the filter itself: its weight is never below 1.
		if b.steps -= max(weight, 1); b.steps < 0 {
			return nil, errRenderSteps
		}
		if b.late() != nil {
			return nil, errLoopTime
		}
		return nil, nil
	})
	e.RegisterFilter(checkFilter, func(_ any, inLoop bool) (any, error) {
		if r.budget == nil || r.budget.late() == nil {
			return nil, nil
		}
		if inLoop {
			return nil, errLoopTime // as the loop's step says it: which of them sees the clock first is chance
		}
		return nil, errRenderTime
	})
	e.RegisterFilter(storedFilter, func(v any) (any, error) { return nil, charge(r.budget, v) })
	r.check = r.objectNode("{{ nil | " + checkFilter + ": false }}")
	r.loopCheck = r.objectNode("{{ nil | " + checkFilter + ": true }}")
	return r
}

// step is the step node of a loop whose pass costs weight.
func (r *liquidRenderer) step(weight int) *render.ObjectNode {
	n, ok := r.steps[weight]
	if !ok {
		n = r.objectNode("{{ nil | " + stepFilter + ": " + strconv.Itoa(weight) + " }}")
		r.steps[weight] = n
	}
	return n
}

// storedNode is the stored node of an assign with these arguments, or nil
// when they name no variable an output can read.
func (r *liquidRenderer) storedNode(assignArgs string) *render.ObjectNode {
	name := assignedName(assignArgs)
	n, ok := r.stored[name]
	if !ok {
		if len(r.stored) >= maxStoredNodes {
			clear(r.stored)
		}
		n, _ = r.compileOutput("{{ " + name + " | " + storedFilter + " }}")
		r.stored[strings.Clone(name)] = n // not a slice of the template, which it would keep
	}
	return n
}

// assignedName is the variable an assign's arguments name.
func assignedName(assignArgs string) string {
	name, _, _ := strings.Cut(assignArgs, "=")
	return strings.TrimSpace(name)
}

// objectNode is the compiled node of one output.
func (r *liquidRenderer) objectNode(src string) *render.ObjectNode {
	n, err := r.compileOutput(src)
	if err != nil {
		panic(err)
	}
	return n
}

// compileOutput compiles src, one output and nothing else.
func (r *liquidRenderer) compileOutput(src string) (*render.ObjectNode, error) {
	tpl, err := r.engine.ParseString(src)
	if err != nil {
		return nil, err
	}
	if seq, ok := tpl.GetRoot().(*render.SeqNode); ok && len(seq.Children) == 1 {
		if n, ok := seq.Children[0].(*render.ObjectNode); ok {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%q is not one output", src)
}

// filterDictionary registers the library's filters through a function.
type filterDictionary func(name string, fn any)

func (f filterDictionary) AddFilter(name string, fn any) { f(name, fn) }

var errorType = reflect.TypeFor[error]()

// boundFilter wraps a filter function: the wrapper, of the same
// parameters and returning an error too, fails once the rendering is past
// its deadline, refuses a string result larger than maxRenderBytes, and
// charges the size of what the filter returned to the rendering's work
// (sizeOfValue). A filter's own error passes as it is.
func (r *liquidRenderer) boundFilter(fn any) any {
	f := reflect.ValueOf(fn)
	t := f.Type()
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	result := t.Out(0)
	wrapped := reflect.FuncOf(in, []reflect.Type{result, errorType}, t.IsVariadic())
	return reflect.MakeFunc(wrapped, func(args []reflect.Value) []reflect.Value {
		fail := func(err error) []reflect.Value {
			return []reflect.Value{reflect.Zero(result), reflect.ValueOf(&err).Elem()}
		}
		b := r.budget
		if b != nil {
			if err := b.late(); err != nil {
				return fail(err)
			}
		}
		var out []reflect.Value
		if t.IsVariadic() {
			out = f.CallSlice(args)
		} else {
			out = f.Call(args)
		}
		if len(out) == 2 && !out[1].IsNil() {
			return []reflect.Value{reflect.Zero(result), out[1]}
		}
		v := out[0].Interface()
		if s, ok := v.(string); ok && len(s) > maxRenderBytes {
			return fail(errValueTooLarge) // escape, url_encode and the like grow a value too
		}
		if b != nil {
			if err := b.spendWork(sizeOfValue(v, b.work+1)); err != nil {
				return fail(err)
			}
		}
		return []reflect.Value{out[0], reflect.Zero(errorType)}
	}).Interface()
}

// instrumentLoops puts a step node first in the body of every for and
// tablerow loop of a compiled template, a check node before every output,
// tag and block, and a stored node after every assign. The step node
// bears the loop's place, so an exhausted budget is reported at the loop;
// a check or stored node bears the place of the node it comes before or
// after. None of them writes anything: so the library's assign is kept, as
// a tag of Herald's own writes "" even so, and a write takes up a pending
// right trim, which is meant for what comes next.
func (r *liquidRenderer) instrumentLoops(n render.Node) { r.instrument(n, false) }

func (r *liquidRenderer) instrument(n render.Node, inLoop bool) {
	switch n := n.(type) {
	case *render.SeqNode:
		r.checkEach(n.Children, inLoop)
	case *render.BlockNode:
		loop := n.Name == "for" || n.Name == "tablerow"
		for _, c := range n.Clauses {
			r.instrument(c, inLoop) // a loop's else runs once, outside it
		}
		r.checkEach(n.Body, inLoop || loop)
		if loop {
			s := *r.step(1 + len(n.Body))
			s.Token = parser.Token{Type: parser.ObjTokenType, SourceLoc: n.SourceLoc, Source: n.Source}
			n.Body = append([]render.Node{&s}, n.Body...)
		}
	}
}

// checkEach instruments nodes and puts a check node before each output,
// tag and block among them. It does so in place, each such node becoming
// a sequence of the check node and itself: the library renders an if's
// (or unless's) first branch from a copy of the block's node, made when
// the template was compiled, which shares the body's items but not a new
// slice of them. (Found by review: with the check nodes put in a new
// slice, {{ l == l }} repeated inside {% if true %} ran for 32 s and more,
// past the 2 s bound.)
func (r *liquidRenderer) checkEach(nodes []render.Node, inLoop bool) {
	check := r.check
	if inLoop {
		check = r.loopCheck
	}
	for i, c := range nodes {
		r.instrument(c, inLoop)
		var at parser.Token
		switch c := c.(type) {
		case *render.BlockNode:
			at = c.Token
		case *render.TagNode:
			at = c.Token
		case *render.ObjectNode:
			at = c.Token
		default:
			continue
		}
		k := *check
		k.Token = parser.Token{Type: parser.ObjTokenType, SourceLoc: at.SourceLoc, Source: at.Source}
		seq := &render.SeqNode{Children: []render.Node{&k, c}}
		if at.Type == parser.TagTokenType && at.Name == "assign" {
			// The library compiled the assign, so its name is a variable
			// an output reads (were it not, the work budget would still
			// bound what the assign's filters built).
			if stored := r.storedNode(at.Args); stored != nil {
				v := *stored
				v.Token = k.Token
				seq.Children = append(seq.Children, &v)
			}
		}
		nodes[i] = seq
	}
}
