package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// JourneyClone copies a journey, whatever its status, into a new draft
// named "Copy of …" (numbered when that name is taken): 201 with the copy.
func (s *Handlers) JourneyClone(c *gin.Context) {
	j, err := s.loadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	copied, err := s.engine.Clone(c.Request.Context(), j)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.respondJourney(c, http.StatusCreated, copied)
}
