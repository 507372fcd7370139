package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// JourneyGet shows one journey.
func (s *Handlers) JourneyGet(c *gin.Context) {
	j, err := s.loadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}

// JourneyList lists the panel's journeys with their run counts: those not
// archived, or with ?archived=true the archived ones.
func (s *Handlers) JourneyList(c *gin.Context) {
	shelf := models.JourneysShown
	switch c.Query("archived") {
	case "", "false":
	case "true":
		shelf = models.JourneysArchived
	default:
		s.fail(c, httpx.BadRequest("archived", "must be true or false"))
		return
	}
	js, counts, err := s.store.JourneysWithRuns(c.Request.Context(), httpx.PanelOf(c).ID, shelf)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]journeyJSON, 0, len(js))
	for i := range js {
		j, err := newJourneyJSON(&js[i], counts[js[i].ID])
		if err != nil {
			s.fail(c, err)
			return
		}
		out = append(out, j)
	}
	c.JSON(http.StatusOK, gin.H{"journeys": out})
}
