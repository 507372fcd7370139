package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// JourneyCreate stores a new journey as a draft.
func (s *Handlers) JourneyCreate(c *gin.Context) {
	def, raw, err := s.decodeDefinition(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.CreateJourney(c.Request.Context(), httpx.PanelOf(c).ID, def.Name, raw)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondJourney(c, http.StatusCreated, j)
}

// JourneyUpdate replaces a draft's or a paused journey's definition.
func (s *Handlers) JourneyUpdate(c *gin.Context) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	def, raw, err := s.decodeDefinition(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.UpdateJourney(c.Request.Context(), httpx.PanelOf(c).ID, id, def.Name, raw)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}
