package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// ConsentAnsweredPath is where a consent link's answer lands (post,
// redirect, get): a page that says what was recorded, without the token.
const ConsentAnsweredPath = "/alert-recipients/answered"

// consentGone is the one answer to a consent link that does not work.
const consentGone = "It was used already, the address was removed from the panel's alert recipients, " +
	"or the link was never made."

// consentView is the page of a consent link.
type consentView struct {
	Consent *models.RecipientConsent
	// Action is the link itself: the page's forms post back to it.
	Action  string
	Expired bool
	// Answered: the page after an answer, which the flash words.
	Answered bool
	// Stop: the page of the link in an alert e-mail that stops them.
	Stop bool
	// Gone: why the link does not work.
	Gone string
}

// linkGone answers a consent or stop link that does not work: on a page
// of its own, for a recipient who may have no account here, rather than
// the app's error page; err when it is not the link's fault.
func (s *Handlers) linkGone(c *gin.Context, err error, why string) {
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		s.FailPage(c, err)
		return
	}
	s.render(c, http.StatusNotFound, "consent", "This link does not work", "", consentView{Gone: why})
	c.Abort()
}

// consentOf loads what the link is about; it answers the request itself
// (ok false) when the link does not work.
func (s *Handlers) consentOf(c *gin.Context) (*models.RecipientConsent, bool, bool) {
	c.Header("Cache-Control", "no-store")
	token := c.Param("token")
	if len(token) > 100 {
		s.linkGone(c, nil, consentGone)
		return nil, false, false
	}
	rc, err := s.store.RecipientConsentByToken(c.Request.Context(), token)
	expired := errors.Is(err, models.ErrLinkExpired)
	if err != nil && !expired {
		s.linkGone(c, err, consentGone)
		return nil, false, false
	}
	return rc, expired, true
}

// ConsentPage shows a consent link: the panel whose alerts the address
// would get, and a button each to agree and to say no. Opening the link
// changes nothing (mail scanners open links); only a button does.
func (s *Handlers) ConsentPage(c *gin.Context) {
	rc, expired, ok := s.consentOf(c)
	if !ok {
		return
	}
	status := http.StatusOK
	if expired {
		status = http.StatusGone
	}
	s.render(c, status, "consent", "Alert e-mail for panel "+rc.PanelName, "",
		consentView{Consent: rc, Action: c.Request.URL.Path, Expired: expired})
}

// ConsentAnswer records the owner's answer (answer=yes or no) and lands
// on ConsentAnsweredPath. Yes needs a link that has not expired; no works
// with any link that is not used.
func (s *Handlers) ConsentAnswer(c *gin.Context) {
	if _, _, ok := s.consentOf(c); !ok {
		return
	}
	ctx, token := c.Request.Context(), c.Param("token")
	var rc *models.RecipientConsent
	var err error
	var said string
	switch c.PostForm("answer") {
	case "yes":
		rc, err = s.store.ConfirmRecipient(ctx, token)
		if err == nil {
			said = rc.Email + " now gets alert e-mail for panel " + rc.PanelName + ". To stop it, use the link at the foot of any alert e-mail."
		}
	case "no":
		rc, err = s.store.DeclineRecipient(ctx, token)
		if err == nil {
			said = rc.Email + " gets no alert e-mail from panel " + rc.PanelName + ": it is no longer among the panel's alert recipients, " +
				"and the panel cannot ask it again for 30 days."
		}
	default:
		s.FailPage(c, httpx.BadRequest("answer", "Choose one of the two buttons."))
		return
	}
	switch {
	case errors.Is(err, models.ErrLinkExpired):
		s.setFlash(c, "error", "This link has expired: nothing was changed. Ask the panel's people to send a new one.")
		c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
		return
	case err != nil:
		s.linkGone(c, err, consentGone)
		return
	}
	s.log.InfoContext(ctx, "alert recipient answered", "request_id", c.GetString(httpx.CtxRequestID), "panel_id", rc.PanelID,
		"agreed", rc.Confirmed)
	s.setFlash(c, "ok", said)
	c.Redirect(http.StatusSeeOther, ConsentAnsweredPath)
}

// ConsentAnswered is the page after an answer: the flash says what was
// recorded.
func (s *Handlers) ConsentAnswered(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	s.render(c, http.StatusOK, "consent", "Alert e-mail", "", consentView{Answered: true})
}

// OptOutPath is the route of the link in each alert e-mail that stops the
// panel's alerts to that address (health.OptOutPathPrefix).
const OptOutPath = health.OptOutPathPrefix + ":token"

// optOutGone answers an opt-out link that does not work.
const optOutGone = "The address gets no alert e-mail from this panel any more, or the link was never made."

// OptOutPage shows the link in an alert e-mail: the panel, the address,
// and a button that stops the alerts. Opening it changes nothing.
func (s *Handlers) OptOutPage(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	rc, err := s.store.OptOutByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.linkGone(c, err, optOutGone)
		return
	}
	s.render(c, http.StatusOK, "consent", "Stop alert e-mail for panel "+rc.PanelName, "",
		consentView{Consent: rc, Action: c.Request.URL.Path, Stop: true})
}

// OptOut stops the panel's alerts to the address of the link and lands on
// ConsentAnsweredPath.
func (s *Handlers) OptOut(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	rc, err := s.store.OptOut(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.linkGone(c, err, optOutGone)
		return
	}
	s.log.InfoContext(c.Request.Context(), "alert recipient opted out", "request_id", c.GetString(httpx.CtxRequestID), "panel_id", rc.PanelID)
	s.setFlash(c, "ok", rc.Email+" gets no more alert e-mail from panel "+rc.PanelName+": it is no longer among the panel's alert recipients.")
	c.Redirect(http.StatusSeeOther, ConsentAnsweredPath)
}
