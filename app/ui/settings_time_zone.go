package ui

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// TimeZoneSave sets the panel's time zone, in which the pages show times
// and read the dates of their filters.
func (s *Handlers) TimeZoneSave(c *gin.Context) {
	zone := strings.TrimSpace(c.PostForm("time_zone"))
	if err := models.CheckTimeZone(zone); err != nil {
		s.renderSettings(c, http.StatusBadRequest, &settingsPage{ZoneTyped: zone, ZoneError: "Not a known time zone: use a name such as Europe/Paris, America/New_York or UTC."})
		return
	}
	if err := s.store.SetPanelTimeZone(c.Request.Context(), httpx.PanelOf(c).ID, zone); err != nil {
		s.FailPage(c, err)
		return
	}
	s.setFlash(c, "ok", "Times are now shown in "+zone+".")
	c.Redirect(http.StatusSeeOther, "/settings#time-zone")
}
