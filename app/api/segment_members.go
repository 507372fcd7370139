package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// SegmentMembersList pages through the contacts whose attributes match a
// segment now: ?after= the next_after of the page before. A page holds up
// to 50 members; next_after is null at the end of the contacts.
func (s *Handlers) SegmentMembersList(c *gin.Context) {
	id, err := httpx.IDParam(c, "segment")
	if err != nil {
		s.fail(c, err)
		return
	}
	seg, err := s.store.SegmentByID(c.Request.Context(), httpx.PanelOf(c).ID, id)
	if err != nil {
		s.fail(c, httpx.NotFoundAs(err, "segment not found"))
		return
	}
	var after int64
	if raw := c.Query("after"); raw != "" {
		if after, err = strconv.ParseInt(raw, 10, 64); err != nil || after < 0 {
			s.fail(c, httpx.BadRequest("after", "must be the next_after of the page before"))
			return
		}
	}
	cs, next, err := s.SegmentMembers(c.Request.Context(), seg, after)
	if err != nil {
		s.fail(c, err)
		return
	}
	body := gin.H{"members": contactsJSON(cs), "next_after": nil}
	if next != 0 {
		body["next_after"] = next
	}
	c.JSON(http.StatusOK, body)
}
