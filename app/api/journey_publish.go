package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// JourneyPublish puts a draft or paused journey live, after checking its
// graph: every node reachable, no loop without a wait, every webhook node
// on an active asset of this panel, its list or segment existing. 422 with
// the reasons otherwise. A paused journey resumes: runs whose wait ran out
// or whose event came meanwhile move on.
func (s *Handlers) JourneyPublish(c *gin.Context) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.engine.Publish(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}

// JourneyPause stops new entries and holds the runs where they are.
func (s *Handlers) JourneyPause(c *gin.Context) { s.journeyMove(c, models.JourneyPaused) }

// JourneyStop ends the journey and all its runs, for good.
func (s *Handlers) JourneyStop(c *gin.Context) { s.journeyMove(c, models.JourneyStopped) }

func (s *Handlers) journeyMove(c *gin.Context, to models.JourneyStatus) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.SetJourneyStatus(c.Request.Context(), httpx.PanelOf(c).ID, id, to, nil)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}
