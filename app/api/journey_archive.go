package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// JourneyArchive hides a stopped or paused journey from the journey list
// (GET /journeys?archived=true lists it); 409 for a draft or live one.
func (s *Handlers) JourneyArchive(c *gin.Context) { s.journeyArchive(c, true) }

// JourneyUnarchive puts an archived journey back on the list.
func (s *Handlers) JourneyUnarchive(c *gin.Context) { s.journeyArchive(c, false) }

func (s *Handlers) journeyArchive(c *gin.Context, archived bool) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.SetJourneyArchived(c.Request.Context(), httpx.PanelOf(c).ID, id, archived)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}
