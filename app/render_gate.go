package app

import (
	"context"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// rendersPerPanel is how many requests of one panel may at once be on a
// route that renders a body template (saves, tests, previews). A rendering
// is bounded (2 s, models/webhook_template_budget.go), but the admin rate
// limit alone let a panel start ten a second, each a core's work, on the
// server every panel shares; two at a time leave room for a test that
// waits on its endpoint while the form's preview goes on.
const rendersPerPanel = 2

// panelGate lets at most rendersPerPanel requests of a panel through at
// once; the others wait their turn, or until their client goes away.
type panelGate struct {
	mu    sync.Mutex
	slots map[int64]*gateSlots
}

type gateSlots struct {
	ch    chan struct{}
	users int // requests holding or waiting for a slot
}

// enter waits for a slot of panel; leave gives it back.
func (g *panelGate) enter(ctx context.Context, panel int64) (leave func(), err error) {
	g.mu.Lock()
	if g.slots == nil {
		g.slots = map[int64]*gateSlots{}
	}
	sl := g.slots[panel]
	if sl == nil {
		sl = &gateSlots{ch: make(chan struct{}, rendersPerPanel)}
		g.slots[panel] = sl
	}
	sl.users++
	g.mu.Unlock()
	done := func() {
		g.mu.Lock()
		if sl.users--; sl.users == 0 {
			delete(g.slots, panel)
		}
		g.mu.Unlock()
	}
	select {
	case sl.ch <- struct{}{}:
		return func() { <-sl.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}

// oneRenderAtATime is the middleware of the routes that render a body
// template: it holds one of the panel's slots while the request runs.
func (s *Server) oneRenderAtATime(c *gin.Context) {
	leave, err := s.renders.enter(c.Request.Context(), httpx.PanelOf(c).ID)
	if err != nil {
		c.Abort() // the client went away while it waited
		return
	}
	defer leave()
	c.Next()
}
