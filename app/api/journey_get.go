package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
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

// JourneyList lists the panel's journeys with their run counts.
func (s *Handlers) JourneyList(c *gin.Context) {
	js, counts, err := s.store.JourneysWithRuns(c.Request.Context(), httpx.PanelOf(c).ID)
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
