package ui

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// JourneySettingsSave changes a journey's name and when a contact may enter
// it again.
func (s *Handlers) JourneySettingsSave(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	def.Name = strings.TrimSpace(c.PostForm("name"))
	switch mode := c.PostForm("reentry"); mode {
	case "after":
		def.Reentry = "after:" + strings.TrimSpace(c.PostForm("reentry_after"))
	default:
		def.Reentry = mode
	}
	s.saveJourney(c, j, def, "", formErrors{})
}
