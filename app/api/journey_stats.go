package api

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// JourneyStats counts, for each step of a journey, the runs that entered it,
// wait there now and took each exit, and its webhook deliveries sent,
// failed and held. Every step of the definition is present, zeros included.
func (s *Handlers) JourneyStats(c *gin.Context) {
	j, err := s.LoadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	nodes, err := s.NodeStats(c, j)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"nodes": nodes})
}

// NodeStats are the counts of each step of journey j, for the API and the
// builder's canvas alike.
func (s *Handlers) NodeStats(c *gin.Context, j *models.Journey) (map[string]*models.NodeStats, error) {
	nodes, err := s.store.JourneyStats(c.Request.Context(), j.PanelID, j.ID)
	if err != nil {
		return nil, err
	}
	var def journey.Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, err
	}
	for _, n := range def.Nodes {
		st := nodes[n.ID]
		if st == nil {
			st = &models.NodeStats{Exits: map[string]int64{}}
			nodes[n.ID] = st
		}
		exits := []string{journey.ExitNext}
		switch {
		case n.Type == journey.TypeWait:
			exits = []string{journey.ExitHappened, journey.ExitTimeout}
		case n.Type == journey.TypeStop:
			exits = nil
		case n.AwaitsOutcome():
			exits = n.OutcomeExitNames()
		}
		for _, e := range exits {
			st.Exits[e] += 0 // present as 0 when none took it
		}
	}
	return nodes, nil
}
