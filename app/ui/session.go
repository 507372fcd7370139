package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

const (
	// ctxSession holds the *models.SessionInfo of a signed-in UI request.
	ctxSession = "session"
	// ctxSessionLookup holds what sessionOf found, nil included.
	ctxSessionLookup = "session_lookup"
	// SessionCookie carries the session token; flashCookie a one-time
	// message for the next page.
	SessionCookie = "herald_session"
	flashCookie   = "herald_flash"
)

// linkRoutes are the routes whose path carries a link's token.
var linkRoutes = []string{InvitationPath, httpx.ConsentPath, OptOutPath}

// LoggedPath is a request's path as logs may write it: a link's path is
// written as its route, without the token, whatever the method (a HEAD
// a mail scanner sends matches no route), as whoever reads logs could
// otherwise use the link.
func LoggedPath(path string) string {
	for _, route := range linkRoutes {
		if prefix := strings.TrimSuffix(route, ":token"); strings.HasPrefix(path, prefix) {
			return route
		}
	}
	return path
}

// CrossOrigin refuses state-changing requests a browser sent from another
// origin (CSRF), with Go's http.CrossOriginProtection: every UI form posts
// to its own origin, so no token needs to be threaded through the forms.
// Safe methods pass.
func (s *Handlers) CrossOrigin(c *gin.Context) {
	if err := s.csrf.Check(c.Request); err != nil {
		s.log.WarnContext(c.Request.Context(), "cross-origin request refused", "request_id", c.GetString(httpx.CtxRequestID),
			"path", LoggedPath(c.Request.URL.Path), "origin", c.GetHeader("Origin"), "sec_fetch_site", c.GetHeader("Sec-Fetch-Site"))
		s.render(c, http.StatusForbidden, "error", "Request refused", "", httpx.ErrorBody{
			Error: "This form was sent from another site, so Herald refused it. If you meant to do this, open Herald and do it there."})
		c.Abort()
		return
	}
	c.Next()
}

// RequireSession admits signed-in users and puts their session and current
// panel in the context; everyone else is sent to the sign-in page, and
// comes back to where they were going afterwards.
func (s *Handlers) RequireSession(c *gin.Context) {
	sess, err := s.sessionOf(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if sess == nil && WantsJSON(c) {
		// The page's script (Test, Save, preview) cannot follow a redirect to a page.
		c.AbortWithStatusJSON(http.StatusUnauthorized, httpx.ErrorBody{Error: "your session has ended: sign in again (in another tab, to keep this form)"})
		return
	}
	if sess == nil {
		target := "/login"
		// Only a target sign-in would follow is carried along.
		if next := c.Request.URL.RequestURI(); c.Request.Method == http.MethodGet && localPath(next) != "/" {
			target += "?next=" + url.QueryEscape(next)
		}
		c.Redirect(http.StatusSeeOther, target)
		c.Abort()
		return
	}
	c.Set(ctxSession, sess)
	c.Set(httpx.CtxPanel, &sess.Panel)
	c.Next()
}

// sessionOf returns the request's live session, or nil. The answer is
// kept for the rest of the request: the UI rate limit and requireSession
// both ask, and one database read serves both.
func (s *Handlers) sessionOf(c *gin.Context) (*models.SessionInfo, error) {
	if v, ok := c.Get(ctxSessionLookup); ok {
		return v.(*models.SessionInfo), nil
	}
	token, _ := c.Cookie(SessionCookie)
	if token == "" {
		return nil, nil
	}
	sess, err := s.store.SessionByToken(c.Request.Context(), token)
	if errors.Is(err, models.ErrNotFound) {
		sess, err = nil, nil
	}
	if err == nil {
		c.Set(ctxSessionLookup, sess)
	}
	return sess, err
}

func sessionOf(c *gin.Context) *models.SessionInfo {
	return c.MustGet(ctxSession).(*models.SessionInfo)
}

// setCookie writes a cookie the page's scripts cannot read and other sites
// cannot send along (SameSite=Lax), Secure when Herald is reached over TLS.
func (s *Handlers) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies || c.Request.TLS != nil})
}

// flash is a one-time message shown on the next page.
type flash struct {
	Kind    string // "ok" or "error"
	Message string
}

// setFlash leaves a message for the next page (after a redirect). It
// never carries a secret: it travels in a cookie.
func (s *Handlers) setFlash(c *gin.Context, kind, message string) {
	s.setCookie(c, flashCookie, url.QueryEscape(kind+":"+message), 60)
}

// takeFlash reads the message left for this page and clears it.
func takeFlash(c *gin.Context) *flash {
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return nil
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	kind, msg, ok := strings.Cut(raw, ":")
	if !ok || (kind != "ok" && kind != "error") {
		return nil
	}
	return &flash{Kind: kind, Message: msg}
}

// localPath returns p when it is a clean path on this site, and "/"
// otherwise: it is the only gate for the next= target of sign-in.
// Browsers drop tabs and newlines and treat a backslash as a slash, so
// "/\t/evil.example" or "/\\evil.example" would leave the site as
// "//evil.example". The checks run on p and on its percent-decoded forms
// too, so "/%2F/evil.example" fails like "//evil.example"; a target whose
// decoded form has a space (a query such as ?q=a%20b) falls back to "/":
// losing the way back is cheaper than a wrong judgement.
func localPath(p string) string {
	// Three rounds of decoding cover double-encoding; a value still
	// changing after that is not one Herald produced.
	for v, i := p, 0; i < 3; i++ {
		if !cleanPath(v) {
			return "/"
		}
		d, err := url.PathUnescape(v)
		if err != nil {
			return "/"
		}
		if d == v {
			return p
		}
		v = d
	}
	return "/"
}

// cleanPath reports whether p starts with a single "/" and has no
// backslash, control character or white space anywhere. A leading single
// slash also rules out a scheme ("javascript:", "https:") and a host.
func cleanPath(p string) bool {
	if len(p) < 1 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for _, r := range p {
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
