package ui

import (
	"encoding/json"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// audiencesPage lists the panel's lists and segments, with the forms that
// make them.
type audiencesPage struct {
	Lists    []models.List
	Segments []segmentRow
	// NewList and NewSegment are the forms as typed, with their errors.
	NewList    audienceForm
	NewSegment audienceForm
	Ops        []string
}

type segmentRow struct {
	Segment models.Segment
	Filters []journey.Filter
}

// audienceForm is a refused new list or segment: its name, a segment's
// filters, and the messages by field.
type audienceForm struct {
	Name    string
	Filters []journey.Filter
	Errors  formErrors
}

// audiencesStash is what the list and segment forms leave for the page.
type audiencesStash struct {
	NewList, NewSegment *audienceForm
}

// AudiencesPage shows the panel's lists (with their member counts) and
// segments (with their filters).
func (s *Handlers) AudiencesPage(c *gin.Context) {
	var st audiencesStash
	status := s.takeStash(c, "audiences", &st)
	ctx := c.Request.Context()
	panelID := httpx.PanelOf(c).ID
	p := audiencesPage{NewList: audienceForm{Errors: formErrors{}}, NewSegment: audienceForm{Errors: formErrors{}}, Ops: journey.Ops}
	if st.NewList != nil {
		p.NewList = *st.NewList
	}
	if st.NewSegment != nil {
		p.NewSegment = *st.NewSegment
	}
	lists, err := s.store.ListLists(ctx, panelID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	segs, err := s.store.ListSegments(ctx, panelID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p.Lists = lists
	for _, seg := range segs {
		p.Segments = append(p.Segments, segmentRow{Segment: seg, Filters: segmentFilters(seg)})
	}
	s.render(c, status, "audiences", "Lists and segments", "audiences", p)
}

// segmentFilters reads a segment's stored filters; they were checked when
// it was saved.
func segmentFilters(seg models.Segment) []journey.Filter {
	var fs []journey.Filter
	_ = json.Unmarshal(seg.Filters, &fs)
	return fs
}
