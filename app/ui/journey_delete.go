package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// JourneyDeleteForm deletes a draft that never ran; a journey that ran is
// kept, and the builder says so.
func (s *Handlers) JourneyDeleteForm(c *gin.Context) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.FailPage(c, err)
		return
	}
	err = s.store.DeleteJourney(c.Request.Context(), httpx.PanelOf(c).ID, id)
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.setFlash(c, "error", sentence(ce.Message)+".")
		c.Redirect(http.StatusSeeOther, builderURL(id, ""))
	case err != nil:
		s.FailPage(c, httpx.NotFoundAs(err, "journey not found"))
	default:
		s.setFlash(c, "ok", "Draft deleted.")
		c.Redirect(http.StatusSeeOther, "/journeys")
	}
}
