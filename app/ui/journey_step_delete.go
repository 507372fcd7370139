package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// JourneyStepDelete removes a step and joins its neighbours.
func (s *Handlers) JourneyStepDelete(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if err := removeStep(def, c.Param("node")); err != nil {
		s.builderAfterPost(c, http.StatusConflict, j, def, c.Param("node"), formErrors{"": sentence(err.Error()) + "."}, nil)
		return
	}
	s.saveJourney(c, j, def, "", formErrors{}, nil)
}
