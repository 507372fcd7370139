package ui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// segmentPage is one segment: its filters and a page of the contacts that
// match them now.
type segmentPage struct {
	Segment *models.Segment
	Row     segmentRow
	Members []models.Contact
	// Next is the next page's URL, "" at the end of the contacts; First
	// the first page's when this is not it.
	Next, First string
}

// SegmentShow shows a segment and the contacts whose attributes match it
// now, found a page at a time (?after= where the last page stopped).
func (s *Handlers) SegmentShow(c *gin.Context) {
	id, err := httpx.IDParam(c, "segment")
	if err != nil {
		s.FailPage(c, err)
		return
	}
	seg, err := s.store.SegmentByID(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "segment not found"))
		return
	}
	var after int64
	if raw := c.Query("after"); raw != "" {
		if after, err = strconv.ParseInt(raw, 10, 64); err != nil || after < 0 {
			s.FailPage(c, httpx.BadRequest("after", "must be where the page before stopped"))
			return
		}
	}
	p := segmentPage{Segment: seg, Row: segmentRow{Segment: *seg, Filters: segmentFilters(*seg)}}
	var next int64
	if p.Members, next, err = s.admin.SegmentMembers(c.Request.Context(), seg, after); err != nil {
		s.FailPage(c, err)
		return
	}
	base := "/segments/" + strconv.FormatInt(seg.ID, 10)
	if next != 0 {
		p.Next = base + "?after=" + strconv.FormatInt(next, 10)
	}
	if after != 0 {
		p.First = base
	}
	s.render(c, http.StatusOK, "segment", seg.Name, "audiences", p)
}
