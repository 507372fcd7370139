package ui

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// JourneyCloneForm copies a journey into a new draft ("Copy of …") and
// opens the copy in the builder.
func (s *Handlers) JourneyCloneForm(c *gin.Context) {
	j, err := httpx.LoadJourney(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	copied, err := s.engine.Clone(c.Request.Context(), j)
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.setFlash(c, "error", sentence(ce.Message)+".")
		c.Redirect(http.StatusSeeOther, builderURL(j.ID, ""))
		return
	case err != nil:
		s.FailPage(c, err)
		return
	}
	s.setFlash(c, "ok", "Copied into the draft “"+copied.Name+"”. It starts nothing until you publish it.")
	c.Redirect(http.StatusSeeOther, "/journeys/"+strconv.FormatInt(copied.ID, 10))
}
