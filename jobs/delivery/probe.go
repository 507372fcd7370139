package delivery

import (
	"context"
	"log/slog"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Prober runs the automatic probes of disabled webhooks: it sends each the
// test batch, as the "Test" button does, and puts back in service those
// that answer 200; the Tracker then resets their health and announces the
// recovery.
type Prober struct {
	Store    *models.Store
	Sender   *Sender
	Tracker  *health.Tracker
	Enqueuer *queue.Enqueuer
	Log      *slog.Logger
}

// Run tests the disabled webhooks whose automatic probe is due and
// re-enables those that answer 200.
func (p *Prober) Run(ctx context.Context) error {
	due, err := p.Store.ProbeDue(ctx)
	if err != nil {
		return err
	}
	for i := range due {
		w := &due[i]
		spec, err := p.Store.Spec(w)
		if err != nil {
			return err
		}
		panel, err := p.Store.PanelByID(ctx, w.PanelID)
		if err != nil {
			return err
		}
		res := p.Sender.Test(ctx, panel.Name, &spec)
		test := &models.WebhookTest{PanelID: w.PanelID, WebhookID: &w.ID, ConfigFP: w.ConfigFP, URL: w.URL,
			Passed: res.Err == nil && res.StatusCode == 200, StatusCode: res.StatusCode,
			LatencyMS: int(res.Latency.Milliseconds()), ResponseBody: string(res.Body), Error: res.ErrorText(), ErrorClass: res.ErrClass}
		if err := p.Store.RecordTest(ctx, test); err != nil {
			return err
		}
		if !test.Passed {
			p.Log.InfoContext(ctx, "automatic probe failed; still disabled", "webhook_id", w.ID, "error", res.ErrorText())
			continue
		}
		before := *w
		_, released, err := p.Store.ActivateWebhook(ctx, w.PanelID, w.ID)
		if err != nil {
			return err
		}
		p.Log.InfoContext(ctx, "automatic probe passed; webhook re-enabled", "webhook_id", w.ID, "released", released)
		p.Tracker.Reenabled(ctx, &before, released)
		if released > 0 {
			if err := p.Enqueuer.Flush(ctx, w.ID, 0); err != nil {
				p.Log.WarnContext(ctx, "flush not enqueued; the reconciler will pick it up", "webhook_id", w.ID, "error", err)
			}
		}
	}
	return nil
}
