package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// JourneyGet shows one journey.
func (s *Handlers) JourneyGet(c *gin.Context) {
	j, err := s.LoadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}

// JourneyList lists the panel's journeys with their run counts.
func (s *Handlers) JourneyList(c *gin.Context) {
	js, counts, err := s.JourneysWithRuns(c.Request.Context(), httpx.PanelOf(c).ID)
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

// JourneysWithRuns lists a panel's journeys and counts their runs by status.
func (s *Handlers) JourneysWithRuns(ctx context.Context, panelID int64) ([]models.Journey, map[int64]map[string]int64, error) {
	js, err := s.store.ListJourneys(ctx, panelID)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(js))
	for i := range js {
		ids[i] = js[i].ID
	}
	counts, err := s.store.JourneyCounts(ctx, ids)
	return js, counts, err
}
