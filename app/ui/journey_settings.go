package ui

import (
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/journey"
)

// JourneySettingsSave changes a journey's name and when a contact may enter
// it again.
func (s *Handlers) JourneySettingsSave(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	_ = c.Request.ParseForm()
	def.Name = strings.TrimSpace(c.PostForm("name"))
	errs, typed := formErrors{}, typedDurations{}
	switch mode := c.PostForm("reentry"); mode {
	case "after":
		if after, ok := typed.read(c.Request.PostForm, "reentry_after", time.Second, journey.MaxReentryAfter, errs); ok {
			def.Reentry = "after:" + after
		}
		if msg, ok := errs["reentry_after"]; ok {
			delete(errs, "reentry_after")
			errs["reentry"] = msg
		}
	default:
		def.Reentry = mode
	}
	s.saveJourney(c, j, def, "", errs, typed)
}
