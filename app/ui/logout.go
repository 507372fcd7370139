package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Logout ends the session on the server, not only in this browser: a
// copied cookie stops working too.
func (s *Handlers) Logout(c *gin.Context) {
	token, _ := c.Cookie(SessionCookie)
	if err := s.store.DeleteSession(c.Request.Context(), token); err != nil {
		s.FailPage(c, err)
		return
	}
	s.setCookie(c, SessionCookie, "", -1)
	s.setFlash(c, "ok", "You are signed out.")
	c.Redirect(http.StatusSeeOther, "/login")
}
