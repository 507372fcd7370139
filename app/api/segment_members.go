package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// SegmentMembersList pages through the contacts whose attributes match a
// segment now: ?after= the next_after of the page before. A page holds up
// to 50 members; next_after is null at the end of the contacts.
func (s *Handlers) SegmentMembersList(c *gin.Context) {
	seg, err := httpx.LoadSegment(c, s.store)
	if err != nil {
		s.fail(c, err)
		return
	}
	after, err := httpx.AfterParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	cs, next, err := s.engine.SegmentMembers(c.Request.Context(), seg, after)
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
