package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// JourneyArchiveForm hides a stopped or paused journey from the journey
// list; the list's "Archived" filter shows it.
func (s *Handlers) JourneyArchiveForm(c *gin.Context) {
	s.journeyArchiveForm(c, true, "Archived: the journey list no longer shows it (see Archived).")
}

// JourneyUnarchiveForm puts an archived journey back on the list.
func (s *Handlers) JourneyUnarchiveForm(c *gin.Context) {
	s.journeyArchiveForm(c, false, "Back on the journey list.")
}

func (s *Handlers) journeyArchiveForm(c *gin.Context, archived bool, done string) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.FailPage(c, err)
		return
	}
	_, err = s.store.SetJourneyArchived(c.Request.Context(), httpx.PanelOf(c).ID, id, archived)
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.setFlash(c, "error", sentence(ce.Message)+".")
	case err != nil:
		s.FailPage(c, httpx.NotFoundAs(err, "journey not found"))
		return
	default:
		s.setFlash(c, "ok", done)
	}
	c.Redirect(http.StatusSeeOther, builderURL(id, ""))
}
