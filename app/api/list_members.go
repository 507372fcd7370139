package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// MembersPerPage is how many members a page of a list or segment shows.
const MembersPerPage = 50

// ListMembers pages through a list's members, latest added first:
// ?page= (from 1).
func (s *Handlers) ListMembers(c *gin.Context) {
	l, err := s.LoadList(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := PageParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cs, err := s.store.ListMembers(c.Request.Context(), l.ID, (page-1)*MembersPerPage, MembersPerPage)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"members": contactsJSON(cs), "page": page, "per_page": MembersPerPage})
}

// ListRemoveMember takes a contact off a list: 204; 404 when the list or
// contact is not the panel's or the contact is not on it. The journeys it
// entered by joining go on.
func (s *Handlers) ListRemoveMember(c *gin.Context) {
	l, err := s.LoadList(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	contactID, err := strconv.ParseInt(c.Param("contact"), 10, 64)
	if err != nil || contactID <= 0 {
		s.fail(c, httpx.NotFound("contact not found"))
		return
	}
	if err := s.RemoveMember(c.Request.Context(), l, contactID); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// RemoveMember takes a contact of the list's panel off it, for the API and
// the UI alike.
func (s *Handlers) RemoveMember(ctx context.Context, l *models.List, contactID int64) error {
	if _, err := s.store.ContactByID(ctx, l.PanelID, contactID); err != nil {
		return httpx.NotFoundAs(err, "contact not found")
	}
	return httpx.NotFoundAs(s.store.RemoveListMember(ctx, l.ID, contactID), "the contact is not on this list")
}

// LoadList loads the list named by the :id of the route, of the caller's
// panel; another panel's is "not found".
func (s *Handlers) LoadList(c *gin.Context) (*models.List, error) {
	id, err := httpx.IDParam(c, "list")
	if err != nil {
		return nil, err
	}
	l, err := s.store.ListByID(c.Request.Context(), httpx.PanelOf(c).ID, id)
	return l, httpx.NotFoundAs(err, "list not found")
}

// PageParam reads ?page= (1 when absent).
func PageParam(c *gin.Context) (int, error) {
	raw := c.Query("page")
	if raw == "" {
		return 1, nil
	}
	page, err := strconv.Atoi(raw)
	if err != nil || page < 1 || page > 1_000_000 {
		return 0, httpx.BadRequest("page", "must be a whole number from 1")
	}
	return page, nil
}

// AddToList adds members to a list of the panel through the journey
// engine (list-triggered journeys start for the new ones), for the API and
// the UI's add and import alike; it returns how many were new.
func (s *Handlers) AddToList(ctx context.Context, panel *models.Panel, listID int64, members []journey.Member) (int, error) {
	return s.engine.AddToList(ctx, panel, listID, members)
}

// Member checks a contact named for a list (by external id, e-mail or
// phone) as the API's members are checked; field prefixes the error's field.
func Member(externalID, email, phone, field string) (journey.Member, error) {
	return memberInput{ExternalID: externalID, Email: email, Phone: phone}.member(field)
}

// segmentScan bounds the contacts one page of a segment's members reads:
// members are found by matching each contact's attributes, and a page that
// found too few says where to go on.
const segmentScan = 5000

// SegmentMembers finds a page of the segment's members among the contacts
// after id after. next is where the next page starts (0 at the end of the
// contacts): a page holds up to MembersPerPage members, or fewer when
// segmentScan contacts were read.
func (s *Handlers) SegmentMembers(ctx context.Context, seg *models.Segment, after int64) ([]models.Contact, int64, error) {
	var fs []journey.Filter
	if err := json.Unmarshal(seg.Filters, &fs); err != nil {
		return nil, 0, fmt.Errorf("segment %d filters: %w", seg.ID, err)
	}
	var out []models.Contact
	for scanned := 0; scanned < segmentScan; {
		window, err := s.store.ContactsAfter(ctx, seg.PanelID, after, 500)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range window {
			after = c.ID
			scanned++
			if journey.MatchAll(fs, c.Attributes, nil) {
				out = append(out, c)
				if len(out) == MembersPerPage {
					return out, after, nil
				}
			}
		}
		if len(window) < 500 {
			return out, 0, nil
		}
	}
	return out, after, nil
}
