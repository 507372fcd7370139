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
	seg, err := httpx.LoadSegment(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	after, err := httpx.AfterParam(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p := segmentPage{Segment: seg, Row: segmentRow{Segment: *seg, Filters: segmentFilters(*seg)}}
	var next int64
	if p.Members, next, err = s.engine.SegmentMembers(c.Request.Context(), seg, after); err != nil {
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
