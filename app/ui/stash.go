package ui

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// stashed is what a form post leaves for the page it redirects to: the
// status the page answers with (a refused form's 4xx) and the page's own
// data (its messages, what was typed, a secret shown once).
type stashed struct {
	Status int             `json:"status"`
	Data   json.RawMessage `json:"data"`
}

// redirectWith ends a form post the post/redirect/get way: data, left
// server-side for the next rendering of page (sealed: it may hold a secret
// shown once), and a 303 to target. A reload of the page that follows
// neither posts again nor shows the secret again. When the stash cannot be
// written the post's effect stands; the page then shows without it.
func (s *Handlers) redirectWith(c *gin.Context, page string, status int, data any, target string) {
	raw, err := json.Marshal(stashed{Status: status, Data: mustJSON(data)})
	if err == nil {
		err = s.store.PutStash(c.Request.Context(), sessionOf(c).ID, page, raw)
	}
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "page state not stashed", "page", page, "error", err)
	}
	// The page after a one-time secret must not be kept by the browser.
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, target)
}

// takeStash fills into what a post left for page, once, and returns the
// status to answer with (200 when nothing was left).
func (s *Handlers) takeStash(c *gin.Context, page string, into any) int {
	raw, err := s.store.TakeStash(c.Request.Context(), sessionOf(c).ID, page)
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "page state not read", "page", page, "error", err)
	}
	var st stashed
	if raw == nil || json.Unmarshal(raw, &st) != nil || json.Unmarshal(st.Data, into) != nil {
		return http.StatusOK
	}
	c.Header("Cache-Control", "no-store")
	if st.Status == 0 {
		return http.StatusOK
	}
	return st.Status
}

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return raw
}

// formCookie carries what a refused sign-in or invitation post leaves for
// the form it redirects to. Those posts have no session yet to key a stash
// row by, so the state rides in a short-lived cookie, sealed with the
// Cipher: the browser can neither read it (it holds the typed address)
// nor forge it. Never a password.
const (
	formCookie        = "herald_form"
	formCookiePurpose = "ui form cookie"
	formCookieTTL     = time.Minute
)

// cookieStash is the sealed content of formCookie: the page it was left
// for and until when it counts.
type cookieStash struct {
	stashed
	Page    string    `json:"page"`
	Expires time.Time `json:"expires"`
}

// redirectWithCookie is redirectWith for a visitor without a session: the
// refused form's state in formCookie, and a 303 back to the form.
func (s *Handlers) redirectWithCookie(c *gin.Context, page string, status int, data any, target string) {
	raw, err := json.Marshal(cookieStash{stashed: stashed{Status: status, Data: mustJSON(data)}, Page: page,
		Expires: s.store.Now().Add(formCookieTTL)})
	if err == nil {
		s.setCookie(c, formCookie, base64.RawURLEncoding.EncodeToString(s.store.Cipher.Seal(formCookiePurpose, raw)),
			int(formCookieTTL.Seconds()))
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, target)
}

// takeCookieStash fills into what redirectWithCookie left for page, once
// (the cookie is cleared whatever it held), and returns the status to
// answer with (200 when nothing was left).
func (s *Handlers) takeCookieStash(c *gin.Context, page string, into any) int {
	value, err := c.Cookie(formCookie)
	if err != nil || value == "" {
		return http.StatusOK
	}
	s.setCookie(c, formCookie, "", -1)
	c.Header("Cache-Control", "no-store")
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return http.StatusOK
	}
	raw, err := s.store.Cipher.Open(formCookiePurpose, sealed)
	var st cookieStash
	if err != nil || json.Unmarshal(raw, &st) != nil || st.Page != page || !s.store.Now().Before(st.Expires) ||
		json.Unmarshal(st.Data, into) != nil || st.Status == 0 {
		return http.StatusOK
	}
	return st.Status
}
