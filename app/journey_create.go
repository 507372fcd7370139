package app

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// journeyCreate stores a new journey as a draft.
func (s *Server) journeyCreate(c *gin.Context) {
	def, raw, err := decodeDefinition(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.CreateJourney(c.Request.Context(), panelOf(c).ID, def.Name, raw)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondJourney(c, http.StatusCreated, j)
}

// journeyUpdate replaces a draft's or a paused journey's definition.
func (s *Server) journeyUpdate(c *gin.Context) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	def, raw, err := decodeDefinition(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	j, err := s.store.UpdateJourney(c.Request.Context(), panelOf(c).ID, id, def.Name, raw)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "journey not found"))
		return
	}
	s.respondJourney(c, http.StatusOK, j)
}
