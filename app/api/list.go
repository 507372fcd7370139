package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
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
	l, err := s.NewList(c.Request.Context(), httpx.PanelOf(c).ID, in.Name)
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
	id, err := httpx.IDParam(c, "list")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := s.store.ListByID(ctx, httpx.PanelOf(c).ID, id); err != nil {
		s.fail(c, httpx.NotFoundAs(err, "list not found"))
		return
	}
	var in struct {
		Members []memberInput `json:"members"`
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
		if members[i], err = m.member(fmt.Sprintf("members[%d].", i)); err != nil {
			s.fail(c, err)
			return
		}
	}
	added, err := s.engine.AddToList(ctx, httpx.PanelOf(c), id, members)
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
	seg, err := s.NewSegment(c.Request.Context(), httpx.PanelOf(c).ID, in.Name, in.Filters)
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

// NewList checks a list's name and stores the list, for the API and the
// UI alike.
func (s *Handlers) NewList(ctx context.Context, panelID int64, name string) (*models.List, error) {
	if name = strings.TrimSpace(name); name == "" || len(name) > 200 {
		return nil, httpx.BadRequest("name", "is required, up to 200 bytes")
	}
	return s.store.CreateList(ctx, panelID, name)
}

// NewSegment checks a segment's name and filters (contact attributes
// only) and stores it, for the API and the UI alike.
func (s *Handlers) NewSegment(ctx context.Context, panelID int64, name string, filters []journey.Filter) (*models.Segment, error) {
	if name = strings.TrimSpace(name); name == "" || len(name) > 200 {
		return nil, httpx.BadRequest("name", "is required, up to 200 bytes")
	}
	if len(filters) == 0 {
		return nil, httpx.BadRequest("filters", "a segment needs at least one filter")
	}
	if err := journey.CheckFilters(filters); err != nil {
		return nil, httpx.BadRequest("filters", err.Error())
	}
	raw, err := json.Marshal(filters)
	if err != nil {
		return nil, fmt.Errorf("segment filters: %w", err)
	}
	return s.store.CreateSegment(ctx, panelID, name, raw)
}
