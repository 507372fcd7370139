package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/models"
)

// InvalidError is why a journey cannot be stored: the problems of its
// definition, each on its node. The admin API answers it with a 400, the
// builder shows each problem next to its step.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	return "journey: not valid: " + e.Problems[0].String()
}

// ProblemsOf returns the problems err carries, when it is an
// *InvalidError or a *PublishError; nil otherwise.
func ProblemsOf(err error) []Problem {
	var ie *InvalidError
	var pe *PublishError
	switch {
	case errors.As(err, &ie):
		return ie.Problems
	case errors.As(err, &pe):
		return pe.Problems
	}
	return nil
}

// CheckDefinition checks a journey before it is stored, for the admin API
// and the builder alike, and returns it as stored; a malformed journey is
// an *InvalidError listing every problem. Besides the graph's own rules
// (Check), a webhook node that saves from the response must name an asset
// of the panel that sends one event per request (CheckBatching).
func (e *Engine) CheckDefinition(ctx context.Context, panelID int64, def *Definition) (json.RawMessage, error) {
	if def.Reentry == "" {
		def.Reentry = "never"
	}
	if ps := def.Check(); len(ps) > 0 {
		return nil, &InvalidError{Problems: ps}
	}
	var saving []int64
	for _, n := range def.Nodes {
		if n.Type == TypeWebhook && len(n.Save) > 0 {
			saving = append(saving, n.WebhookID)
		}
	}
	if len(saving) > 0 {
		infos, err := e.Store.Assets(ctx, e.Store.SQLDB(), panelID, saving)
		if err != nil {
			return nil, err
		}
		assets := map[int64]Asset{}
		for id, a := range infos {
			assets[id] = Asset{Label: a.Label, BatchSize: a.BatchSize}
		}
		if ps := def.CheckBatching(assets); len(ps) > 0 {
			return nil, &InvalidError{Problems: ps}
		}
	}
	return json.Marshal(def)
}

// NodeStats are the counts of each step of journey j (models'
// JourneyStats), every step and exit of its definition present, for the
// admin API and the builder's canvas alike.
func (e *Engine) NodeStats(ctx context.Context, j *models.Journey) (map[string]*models.NodeStats, error) {
	nodes, err := e.Store.JourneyStats(ctx, j.PanelID, j.ID)
	if err != nil {
		return nil, err
	}
	var def Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, fmt.Errorf("journey %d: %w", j.ID, err)
	}
	def.FillStats(nodes)
	return nodes, nil
}

// FillStats adds to counted (node id → counts) the steps of d no run has
// reached yet and the exits of each step no run took, as zeros: a trigger's
// or webhook step's "next", a wait's "happened" and "timeout", nothing for
// a stop. Counts already there are kept.
func (d *Definition) FillStats(counted map[string]*models.NodeStats) {
	for _, n := range d.Nodes {
		st := counted[n.ID]
		if st == nil {
			st = &models.NodeStats{Exits: map[string]int64{}}
			counted[n.ID] = st
		}
		if st.Exits == nil {
			st.Exits = map[string]int64{}
		}
		exits := []string{ExitNext}
		switch {
		case n.Type == TypeWait:
			exits = []string{ExitHappened, ExitTimeout}
		case n.Type == TypeStop:
			exits = nil
		case n.AwaitsOutcome():
			exits = n.OutcomeExitNames()
		}
		for _, e := range exits {
			st.Exits[e] += 0 // present as 0 when none took it
		}
	}
}
