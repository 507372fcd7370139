package api

import (
	"encoding/json"
	"fmt"
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

// decodeDefinition reads and checks a journey body (the engine's
// CheckDefinition); a malformed journey is a 400 listing every problem.
func (s *Handlers) decodeDefinition(c *gin.Context) (*journey.Definition, json.RawMessage, error) {
	var def journey.Definition
	if err := httpx.DecodeJSON(c, &def); err != nil {
		return nil, nil, err
	}
	raw, err := s.engine.CheckDefinition(c.Request.Context(), httpx.PanelOf(c).ID, &def)
	return &def, raw, err
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
