package app

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// journeyStepDelete removes a step and joins its neighbours.
func (s *Server) journeyStepDelete(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.failPage(c, err)
		return
	}
	if err := removeStep(def, c.Param("node")); err != nil {
		s.renderBuilder(c, http.StatusConflict, j, def, c.Param("node"), formErrors{"": sentence(err.Error()) + "."}, nil)
		return
	}
	s.saveJourney(c, j, def, "", formErrors{})
}
