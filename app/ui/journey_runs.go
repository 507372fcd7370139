package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// journeyRunsPage lists a journey's runs, as the canvas's counts link to them.
type journeyRunsPage struct {
	Journey *models.Journey
	Node    string
	Status  string
	Runs    []models.Run
}

const journeyRunsLimit = 100

// JourneyRunsPage lists a journey's latest runs, narrowed by step (?node=,
// the step a run is at now) and status (?status=).
func (s *Handlers) JourneyRunsPage(c *gin.Context) {
	j, err := httpx.LoadJourney(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p := &journeyRunsPage{Journey: j, Node: c.Query("node"), Status: c.Query("status")}
	switch models.RunStatus(p.Status) {
	case "", models.RunWaiting, models.RunCompleted, models.RunStopped, models.RunEnded:
	default:
		p.Status = ""
	}
	p.Runs, err = s.store.ListRuns(c.Request.Context(), j.PanelID, j.ID, p.Node, models.RunStatus(p.Status), journeyRunsLimit)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.render(c, http.StatusOK, "journey_runs", "Runs · "+j.Name, "journeys", p)
}
