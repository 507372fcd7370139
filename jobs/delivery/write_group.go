package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// WriteGroups writes the deliveries-API requests of one panel that arrive
// while that panel's previous write runs together: one statement and one
// commit for all of them (models.EnqueueForWebhooks). A lone request is
// written at once, so it waits for nothing; under load, one item per
// request no longer costs a transaction of its own. Each request still
// returns only once its rows are committed, and gets its own answer: a
// write whose webhook is not as it expected writes nothing, the others are
// written. When a value of one request makes PostgreSQL refuse the
// statement (models.DataError), the group's requests are written one by
// one, so that no request fails another.
//
// Each panel has a queue of its own and one statement in flight at most,
// so a panel's writes never wait behind another panel's. No goroutine
// outlives its panel's queue: the request that finds it idle writes its
// group, and hands what queued meanwhile to a goroutine that writes groups
// until the queue is empty (the pattern of the ingest insert groups,
// jobs/journey).
//
// Its zero value is ready; a Service shares one among its copies.
type WriteGroups struct {
	mu     sync.Mutex
	panels map[int64]*panelWrites
}

// panelWrites is one panel's queue.
type panelWrites struct {
	queue   []*writeReq
	running bool
}

type writeReq struct {
	write models.WebhookWrite
	out   models.WrittenFor
	err   error
	done  chan struct{}
}

const (
	// maxGroupRows bounds one statement (a request may bring up to 1,000
	// items alone; it then goes by itself).
	maxGroupRows = 1000
	// writeTimeout bounds a group's statement: it serves several
	// requests, so no one request's context may cancel it.
	writeTimeout = 30 * time.Second
)

// write stores one request's rows through store as EnqueueForWebhook
// does, together with its panel's concurrent requests.
func (g *WriteGroups) write(ctx context.Context, store *models.Store, w models.WebhookWrite) (models.WrittenFor, error) {
	req := &writeReq{write: w, done: make(chan struct{})}
	panel := w.Expect.PanelID
	g.mu.Lock()
	if g.panels == nil {
		g.panels = map[int64]*panelWrites{}
	}
	p := g.panels[panel]
	if p == nil {
		p = &panelWrites{}
		g.panels[panel] = p
	}
	p.queue = append(p.queue, req)
	lead := !p.running
	p.running = true
	g.mu.Unlock()
	if lead {
		g.runOne(store, p)
		if !g.idle(panel, p) {
			go g.runAll(store, panel, p) // takes over the panel's slot
		}
	}
	select {
	case <-req.done:
		return req.out, req.err
	case <-ctx.Done():
		// The rows may still be written; the caller answers an error.
		return models.WrittenFor{}, ctx.Err()
	}
}

// idle reports whether the panel's queue is empty, and if so lets it go.
func (g *WriteGroups) idle(panel int64, p *panelWrites) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(p.queue) > 0 {
		return false
	}
	p.running = false
	delete(g.panels, panel)
	return true
}

// runAll writes the panel's groups until its queue is empty.
func (g *WriteGroups) runAll(store *models.Store, panel int64, p *panelWrites) {
	for !g.idle(panel, p) {
		g.runOne(store, p)
	}
}

// runOne takes the panel's oldest queued requests, up to maxGroupRows rows
// (at least one request), and writes them in one statement.
func (g *WriteGroups) runOne(store *models.Store, p *panelWrites) {
	g.mu.Lock()
	n, size := 0, 0
	for n < len(p.queue) && (n == 0 || size+len(p.queue[n].write.Rows) <= maxGroupRows) {
		size += len(p.queue[n].write.Rows)
		n++
	}
	group := p.queue[:n:n]
	p.queue = p.queue[n:]
	g.mu.Unlock()
	writes := make([]models.WebhookWrite, len(group))
	for i, r := range group {
		writes[i] = r.write
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	out, err := store.EnqueueForWebhooks(ctx, writes)
	cancel()
	if _, bad := models.DataError(err); bad && len(group) > 1 {
		for _, r := range group {
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			var one []models.WrittenFor
			if one, r.err = store.EnqueueForWebhooks(ctx, []models.WebhookWrite{r.write}); r.err == nil {
				r.out = one[0]
			}
			cancel()
			close(r.done)
		}
		return
	}
	for i, r := range group {
		if err == nil {
			r.out = out[i]
		}
		r.err = err
		close(r.done)
	}
}
