package ui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// ListMemberRemove takes a contact off a list. The journeys it entered by
// joining go on; the page says so where the button is.
func (s *Handlers) ListMemberRemove(c *gin.Context) {
	l, err := httpx.LoadList(c, s.store)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	contactID, err := strconv.ParseInt(c.Param("contact"), 10, 64)
	if err != nil || contactID <= 0 {
		s.FailPage(c, httpx.NotFound("contact not found"))
		return
	}
	if err := s.store.RemoveListMember(c.Request.Context(), l, contactID); err != nil {
		s.FailPage(c, err)
		return
	}
	s.setFlash(c, "ok", "Removed from the list.")
	back := "/lists/" + strconv.FormatInt(l.ID, 10)
	if page, err := strconv.Atoi(c.PostForm("page")); err == nil && page > 1 {
		back += "?page=" + strconv.Itoa(page)
	}
	c.Redirect(http.StatusSeeOther, back)
}
