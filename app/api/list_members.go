package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// ListMembers pages through a list's members, latest added first:
// ?page= (from 1).
func (s *Handlers) ListMembers(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.fail(c, err)
		return
	}
	page, err := httpx.PageParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cs, err := s.store.ListMembers(c.Request.Context(), l.ID, (page-1)*models.MembersPerPage, models.MembersPerPage)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"members": contactsJSON(cs), "page": page, "per_page": models.MembersPerPage})
}

// ListRemoveMember takes a contact off a list: 204; 404 when the list or
// contact is not the panel's or the contact is not on it. The journeys it
// entered by joining go on.
func (s *Handlers) ListRemoveMember(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.fail(c, err)
		return
	}
	contactID, err := strconv.ParseInt(c.Param("contact"), 10, 64)
	if err != nil || contactID <= 0 {
		s.fail(c, httpx.NotFound("contact not found"))
		return
	}
	if err := s.store.RemoveListMember(c.Request.Context(), l, contactID); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
