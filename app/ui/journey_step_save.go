package ui

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// JourneyStepSave saves a step's side form.
func (s *Handlers) JourneyStepSave(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	n := def.Node(c.Param("node"))
	if n == nil {
		s.FailPage(c, httpx.NotFound("step not found"))
		return
	}
	_ = c.Request.ParseForm()
	var errs formErrors
	var typed typedDurations
	*n, errs, typed = stepFromForm(*n, c.Request.PostForm)
	s.saveJourney(c, j, def, n.ID, errs, typed)
}
