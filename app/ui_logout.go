package app

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// logout ends the session on the server, not only in this browser: a
// copied cookie stops working too.
func (s *Server) logout(c *gin.Context) {
	token, _ := c.Cookie(sessionCookie)
	if err := s.store.DeleteSession(c.Request.Context(), token); err != nil {
		s.failPage(c, err)
		return
	}
	s.setCookie(c, sessionCookie, "", -1)
	s.setFlash(c, "ok", "You are signed out.")
	c.Redirect(http.StatusSeeOther, "/login")
}
