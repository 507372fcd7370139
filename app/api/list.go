package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
)

// ListCreate makes a static list; adding contacts to it can start journeys.
func (s *Handlers) ListCreate(c *gin.Context) {
	var in struct {
		Name string `json:"name"`
	}
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.store.CreateList(c.Request.Context(), httpx.PanelOf(c).ID, in.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": l.ID, "name": l.Name, "members": 0, "created_at": l.CreatedAt})
}

// ListList lists the panel's lists.
func (s *Handlers) ListList(c *gin.Context) {
	ls, err := s.store.ListLists(c.Request.Context(), httpx.PanelOf(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]gin.H, len(ls))
	for i, l := range ls {
		out[i] = gin.H{"id": l.ID, "name": l.Name, "members": l.Members, "created_at": l.CreatedAt}
	}
	c.JSON(http.StatusOK, gin.H{"lists": out})
}

// ListAddMembers adds contacts (created or updated on the way); those that
// were not members yet enter the list-triggered journeys.
func (s *Handlers) ListAddMembers(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var in struct {
		Members []journey.MemberInput `json:"members"`
	}
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if len(in.Members) == 0 || len(in.Members) > maxItemsPerRequest {
		s.fail(c, httpx.BadRequest("members", fmt.Sprintf("send 1 to %d members", maxItemsPerRequest)))
		return
	}
	members := make([]journey.Member, len(in.Members))
	for i, m := range in.Members {
		if members[i], err = m.Member(fmt.Sprintf("members[%d].", i)); err != nil {
			s.fail(c, err)
			return
		}
	}
	added, err := s.engine.AddToList(ctx, httpx.PanelOf(c), l.ID, members)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"added": added})
}

// SegmentCreate saves an attribute filter; contacts that come to match it
// enter the segment-triggered journeys.
func (s *Handlers) SegmentCreate(c *gin.Context) {
	var in struct {
		Name    string           `json:"name"`
		Filters []journey.Filter `json:"filters"`
	}
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	seg, err := s.engine.CreateSegment(c.Request.Context(), httpx.PanelOf(c).ID, in.Name, in.Filters)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"id": seg.ID, "name": seg.Name, "filters": in.Filters, "created_at": seg.CreatedAt})
}

// SegmentList lists the panel's segments.
func (s *Handlers) SegmentList(c *gin.Context) {
	segs, err := s.store.ListSegments(c.Request.Context(), httpx.PanelOf(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]gin.H, len(segs))
	for i, seg := range segs {
		out[i] = gin.H{"id": seg.ID, "name": seg.Name, "filters": seg.Filters, "created_at": seg.CreatedAt}
	}
	c.JSON(http.StatusOK, gin.H{"segments": out})
}
