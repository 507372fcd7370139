package delivery

import (
	"context"
	"log/slog"
	"sync"

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

// A probe is a request that may hang until the HTTP timeout, and every
// panel's due probes are found by one scheduler run. So that one panel's
// hanging endpoints cannot hold back another's recovery, panels are probed
// side by side (probePanels at once) and one panel gets at most
// probesPerPanel probes a run; the rest of its due webhooks wait their
// auto_probe_minutes again.
const (
	probePanels    = 16
	probesPerPanel = 4
)

// Run tests the disabled webhooks whose automatic probe is due and
// re-enables those that answer 200. A probe that fails to run is logged
// and the others go on.
func (p *Prober) Run(ctx context.Context) error {
	due, err := p.Store.ProbeDue(ctx)
	if err != nil {
		return err
	}
	var panels []int64
	byPanel := map[int64][]*models.Webhook{}
	for i := range due {
		w := &due[i]
		if byPanel[w.PanelID] == nil {
			panels = append(panels, w.PanelID)
		}
		byPanel[w.PanelID] = append(byPanel[w.PanelID], w)
	}
	sem := make(chan struct{}, probePanels)
	var wg sync.WaitGroup
	for _, panelID := range panels {
		hooks := byPanel[panelID]
		if len(hooks) > probesPerPanel {
			p.Log.InfoContext(ctx, "probes of a panel deferred to a later run", "panel_id", panelID, "deferred", len(hooks)-probesPerPanel)
			hooks = hooks[:probesPerPanel]
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, w := range hooks {
				if err := p.probe(ctx, w); err != nil {
					p.Log.ErrorContext(ctx, "automatic probe not run", "webhook_id", w.ID, "error", err)
				}
			}
		})
	}
	wg.Wait()
	return nil
}

// probe tests one disabled webhook and re-enables it after a 200.
func (p *Prober) probe(ctx context.Context, w *models.Webhook) error {
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
		return nil
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
	return nil
}
