package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// loginData is the sign-in form.
type loginData struct {
	Email string `json:"email"`
	Next  string `json:"-"` // from the URL, never stashed
	Error string `json:"error"`
}

// LoginPage shows the sign-in form; a signed-in user goes straight on.
func (s *Handlers) LoginPage(c *gin.Context) {
	next := localPath(c.Query("next"))
	if sess, err := s.sessionOf(c); err == nil && sess != nil {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	in := loginData{}
	status := s.takeCookieStash(c, "login", &in)
	in.Next = next
	s.render(c, status, "login", "Sign in", "", in)
}

// refuseLogin sends a refused sign-in back to the form (post/redirect/get):
// the message and the typed address, never the password, with the status
// the form then answers with; a reload does not post again.
func (s *Handlers) refuseLogin(c *gin.Context, status int, in loginData) {
	target := "/login"
	if in.Next != "/" {
		target += "?next=" + url.QueryEscape(in.Next)
	}
	s.redirectWithCookie(c, "login", status, in, target)
}

// Login checks an e-mail address and password and starts a session in the
// user's first panel. Whether the address or the password was wrong is
// not told: that would tell a stranger who has an account.
func (s *Handlers) Login(c *gin.Context) {
	ctx := c.Request.Context()
	in := loginData{Email: c.PostForm("email"), Next: localPath(c.PostForm("next"))}
	if !s.loginAllowed(c, in.Email) {
		// The same words whichever limit it was, and for any address:
		// a refusal does not tell whether the account exists.
		in.Error = "Too many sign-in attempts. Wait a few minutes and try again."
		s.refuseLogin(c, http.StatusTooManyRequests, in)
		return
	}
	user, err := s.store.CheckPassword(ctx, in.Email, c.PostForm("password"))
	if errors.Is(err, models.ErrNotFound) {
		in.Error = "Wrong e-mail address or password."
		s.refuseLogin(c, http.StatusUnauthorized, in)
		return
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.loginSucceeded(c, in.Email)
	panels, err := s.store.UserPanels(ctx, user.ID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if len(panels) == 0 {
		in.Error = "Your account belongs to no panel yet. Ask whoever runs Herald to add you to one."
		s.refuseLogin(c, http.StatusForbidden, in)
		return
	}
	// A session token the browser already had is dropped, so a token
	// planted before sign-in never becomes a signed-in one.
	if old, _ := c.Cookie(SessionCookie); old != "" {
		if err := s.store.DeleteSession(ctx, old); err != nil {
			s.FailPage(c, err)
			return
		}
	}
	token, _, err := s.store.CreateSession(ctx, user.ID, panels[0].ID, s.cfg.SessionTTL)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.setCookie(c, SessionCookie, token, int(s.cfg.SessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, in.Next)
}
