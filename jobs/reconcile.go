package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Reconciler makes sure nothing waits forever on a lost task. Flush tasks
// live in Redis, which may lose them (restarted empty, or down when the
// delivery was written); deliveries live in PostgreSQL. Periodically it
// re-enqueues flushes for webhooks held by a dead worker (the flush sends
// its orphaned rows first) and for webhooks whose oldest pending row is
// overdue.
type Reconciler struct {
	Store    *models.Store
	Enqueuer *queue.Enqueuer
	// Grace is how long past its batch wait a pending row may sit before it
	// counts as overdue.
	Grace time.Duration
	Log   *slog.Logger
}

// Run does one pass.
func (r *Reconciler) Run(ctx context.Context) error {
	reset, err := r.Store.ExpiredLeases(ctx)
	if err != nil {
		return err
	}
	if len(reset) > 0 {
		r.Log.WarnContext(ctx, "webhooks held by a worker whose lease ran out; flushing them again", "webhooks", len(reset))
	}
	overdue, err := r.Store.OverdueWebhooks(ctx, r.Grace)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, id := range reset {
		seen[id] = true
	}
	for _, w := range overdue {
		seen[w.ID] = true
	}
	for id := range seen {
		if err := r.Enqueuer.Flush(ctx, id, 0); err != nil {
			return err
		}
	}
	if len(overdue) > 0 {
		r.Log.InfoContext(ctx, "re-enqueued flushes of overdue webhooks", "webhooks", len(overdue))
	}
	return nil
}
