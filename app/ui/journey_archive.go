package ui

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
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
	s.journeyChanged(c, id, err, done)
}
