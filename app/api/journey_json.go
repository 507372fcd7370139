package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// journeyJSON is a journey as the API shows it: its definition, status and
// how many runs are where.
type journeyJSON struct {
	ID          int64                `json:"id"`
	Name        string               `json:"name"`
	Status      models.JourneyStatus `json:"status"`
	Reentry     string               `json:"reentry"`
	Nodes       []journey.Node       `json:"nodes"`
	Runs        map[string]int64     `json:"runs"`
	CreatedAt   time.Time            `json:"created_at"`
	UpdatedAt   time.Time            `json:"updated_at"`
	PublishedAt *time.Time           `json:"published_at"`
	ArchivedAt  *time.Time           `json:"archived_at"`
}

func newJourneyJSON(j *models.Journey, counts map[string]int64) (journeyJSON, error) {
	var def journey.Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return journeyJSON{}, fmt.Errorf("journey %d: %w", j.ID, err)
	}
	if counts == nil {
		counts = map[string]int64{}
	}
	return journeyJSON{ID: j.ID, Name: j.Name, Status: j.Status, Reentry: def.Reentry, Nodes: def.Nodes, Runs: counts,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, PublishedAt: j.PublishedAt, ArchivedAt: j.ArchivedAt}, nil
}

// decodeDefinition reads and checks a journey body; a malformed journey is
// a 400 listing every problem.
func (s *Handlers) decodeDefinition(c *gin.Context) (*journey.Definition, json.RawMessage, error) {
	var def journey.Definition
	if err := httpx.DecodeJSON(c, &def); err != nil {
		return nil, nil, err
	}
	raw, err := s.CheckDefinition(c.Request.Context(), httpx.PanelOf(c).ID, &def)
	return &def, raw, err
}

// CheckDefinition checks a journey before it is stored, for the API and the
// builder alike, and returns it as stored; a malformed journey is a 400
// listing every problem. Besides the graph's own rules (journey's Check),
// a webhook node that saves from the response must name an asset that
// sends one event per request.
func (s *Handlers) CheckDefinition(ctx context.Context, panelID int64, def *journey.Definition) (json.RawMessage, error) {
	if def.Reentry == "" {
		def.Reentry = "never"
	}
	if ps := def.Check(); len(ps) > 0 {
		return nil, problemsError(http.StatusBadRequest, "the journey is not valid", ps)
	}
	var saving []int64
	for _, n := range def.Nodes {
		if n.Type == journey.TypeWebhook && len(n.Save) > 0 {
			saving = append(saving, n.WebhookID)
		}
	}
	if len(saving) > 0 {
		infos, err := s.store.Assets(ctx, s.store.SQLDB(), panelID, saving)
		if err != nil {
			return nil, err
		}
		assets := map[int64]journey.Asset{}
		for id, a := range infos {
			assets[id] = journey.Asset{Label: a.Label, BatchSize: a.BatchSize}
		}
		if ps := def.CheckBatching(assets); len(ps) > 0 {
			return nil, problemsError(http.StatusBadRequest, "the journey is not valid", ps)
		}
	}
	return json.Marshal(def)
}

func problemsError(status int, msg string, ps []journey.Problem) error {
	field := ps[0].Field
	if ps[0].Node != "" {
		field = "nodes." + ps[0].Node
		if ps[0].Field != "" {
			field += "." + ps[0].Field
		}
	}
	return &httpx.Error{Status: status, Msg: msg + ": " + ps[0].String(), Field: field, Problems: ps}
}

// LoadJourney loads the journey named by :id, in the caller's panel only.
func (s *Handlers) LoadJourney(c *gin.Context) (*models.Journey, error) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		return nil, err
	}
	j, err := s.store.Journey(c.Request.Context(), httpx.PanelOf(c).ID, id)
	return j, httpx.NotFoundAs(err, "journey not found")
}

// respondJourney answers with one journey and its run counts.
func (s *Handlers) respondJourney(c *gin.Context, status int, j *models.Journey) {
	counts, err := s.store.JourneyCounts(c.Request.Context(), []int64{j.ID})
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := newJourneyJSON(j, counts[j.ID])
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(status, out)
}
