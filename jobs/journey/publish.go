package journey

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/models"
)

// PublishError is why a journey cannot go live: the problems of its
// graph, each on its node.
type PublishError struct {
	Problems []Problem
}

func (e *PublishError) Error() string {
	return "journey: cannot be published: " + e.Problems[0].String()
}

// Publish puts a draft or paused journey live, for the admin API and the
// builder alike, after checking its graph: every node reachable, no loop
// without a wait, every webhook node on an active asset of this panel, its
// list or segment existing; a *PublishError otherwise. A paused journey
// resumes: the sweep that follows moves on the runs whose wait ran out or
// whose event came meanwhile.
//
// The graph is checked inside the transaction that locks the journey, and
// the assets, list and segment it names are read there too, so two
// publishes of one journey are checked one after the other, each against
// what it finds once the lock is held.
func (e *Engine) Publish(ctx context.Context, panelID, id int64) (*models.Journey, error) {
	j, err := e.Store.SetJourneyStatus(ctx, panelID, id, models.JourneyLive, func(q models.Querier, j *models.Journey) error {
		if err := e.checkLiveCap(ctx, q, panelID, j); err != nil {
			return err
		}
		var def Definition
		if err := json.Unmarshal(j.Definition, &def); err != nil {
			return err
		}
		ps, err := e.publishProblems(ctx, q, panelID, &def)
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			return &PublishError{Problems: ps}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Its runs whose delivery settled, whose wait ran out or whose event
	// came while it was paused move now, not when the sweeps come round
	// to them. Only its own: a publish costs what one journey costs.
	settled, err := e.Store.SettledAwaitsOf(ctx, j.ID, 10_000)
	if err == nil {
		err = e.enqueueOutcomes(ctx, settled)
	}
	if err == nil {
		err = e.sweepDue(ctx, 0, j.ID)
	}
	if err != nil {
		e.Log.WarnContext(ctx, "resumed journey's due runs are left to the sweep", "journey_id", j.ID, "error", err)
	}
	return j, nil
}

// checkLiveCap refuses to put a journey live when its panel has
// MaxLiveJourneys live already (a journey live already is not counted
// again). It runs in the publishing transaction, which it makes wait for
// the panel's other publishes.
func (e *Engine) checkLiveCap(ctx context.Context, q models.Querier, panelID int64, j *models.Journey) error {
	if e.MaxLiveJourneys <= 0 || j.Status == models.JourneyLive {
		return nil
	}
	n, err := e.Store.LiveJourneysLocked(ctx, q, panelID)
	if err != nil {
		return err
	}
	if n >= e.MaxLiveJourneys {
		return &models.ConflictError{Message: fmt.Sprintf(
			"this panel has %d live journeys, the most it may have at once; pause or stop one before publishing another", n)}
	}
	return nil
}

// publishProblems is CheckPublish with what it needs from the database:
// the panel's assets the graph names, and whether its trigger's list or
// segment exists, read through q: the publishing transaction.
func (e *Engine) publishProblems(ctx context.Context, q models.Querier, panelID int64, def *Definition) ([]Problem, error) {
	var hookIDs []int64
	for _, n := range def.Nodes {
		if n.Type == TypeWebhook {
			hookIDs = append(hookIDs, n.WebhookID)
		}
	}
	infos, err := e.Store.Assets(ctx, q, panelID, hookIDs)
	if err != nil {
		return nil, err
	}
	assets := map[int64]Asset{}
	for id, a := range infos {
		assets[id] = Asset{Label: a.Label, Active: a.Status == models.StatusActive, BatchSize: a.BatchSize}
	}
	ps := def.CheckPublish(assets)
	if t := def.Trigger(); t != nil {
		for _, ref := range []struct {
			table, field string
			id           int64
		}{{"lists", "list", t.List}, {"segments", "segment", t.Segment}} {
			if ref.id == 0 {
				continue
			}
			owned, err := e.Store.PanelOwns(ctx, q, panelID, ref.table, []int64{ref.id})
			if err != nil {
				return nil, err
			}
			if !owned[ref.id] {
				ps = append(ps, Problem{Node: t.ID, Field: ref.field, Message: fmt.Sprintf("%s %d does not exist", ref.field, ref.id)})
			}
		}
	}
	return ps, nil
}
