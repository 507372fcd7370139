package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// SegmentNew saves a segment from its name and filter rows (the rows of a
// journey trigger, on contact attributes), by the API's rules.
func (s *Handlers) SegmentNew(c *gin.Context) {
	form := audienceForm{Name: strings.TrimSpace(c.PostForm("name")), Filters: filtersFromForm(c.Request.PostForm), Errors: formErrors{}}
	seg, err := s.engine.CreateSegment(c.Request.Context(), httpx.PanelOf(c).ID, form.Name, form.Filters)
	if err != nil {
		s.audienceRefused(c, err, &form, audiencesStash{NewSegment: &form}, "new-segment")
		return
	}
	s.setFlash(c, "ok", "Segment “"+seg.Name+"” saved. Contacts whose attributes come to match it enter the journeys it starts.")
	c.Redirect(http.StatusSeeOther, "/segments/"+strconv.FormatInt(seg.ID, 10))
}
