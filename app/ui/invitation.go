package ui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// InvitationPath is the route of an invitation link. The token is in the
// path, so the request log writes the route instead (see requestLog).
const InvitationPath = "/invitations/:token"

// invitationGone is the one answer to every link that does not work:
// unknown, expired, revoked or used alike.
var invitationGone = httpx.NotFound("This invitation link does not work: it has expired, been revoked or been used already, " +
	"or it was never made. Ask whoever invited you for a new one.")

// invitationView is the invitation page.
type invitationView struct {
	Invitation *models.InvitationInfo
	// Action is the link itself: the page's form posts back to it.
	Action string
	// LoginURL signs in first and comes back here.
	LoginURL string
	// SignedInAs is the address of the session, "" when signed out.
	SignedInAs string
	// WrongUser: signed in as someone other than the invited address.
	WrongUser bool
	// PasswordForm: signed out, the link may take a password (it was
	// mailed to the address); else the visitor must sign in first.
	PasswordForm bool
	Errors       formErrors
}

// invitationOf loads the invitation of the link and the visitor's session;
// it answers the request itself (ok false) when the link does not work.
func (s *Handlers) invitationOf(c *gin.Context) (inv *models.InvitationInfo, sess *models.SessionInfo, ok bool) {
	sess, err := s.sessionOf(c)
	if err != nil {
		s.FailPage(c, err)
		return nil, nil, false
	}
	if sess != nil {
		// Signed in: the page has the usual header.
		c.Set(ctxSession, sess)
		c.Set(httpx.CtxPanel, &sess.Panel)
	}
	c.Header("Cache-Control", "no-store")
	token := c.Param("token")
	if len(token) > 100 {
		s.FailPage(c, invitationGone)
		return nil, nil, false
	}
	inv, err = s.store.InvitationByToken(c.Request.Context(), token)
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, invitationGone.Error()))
		return nil, nil, false
	}
	return inv, sess, true
}

// renderInvitation shows the invitation. Signed out, the page is the same
// whether or not the address has an account (one password field serves
// both), so the link does not tell whoever holds it, the inviter included,
// who uses Herald.
func (s *Handlers) renderInvitation(c *gin.Context, status int, inv *models.InvitationInfo, sess *models.SessionInfo, errs formErrors) {
	path := "/invitations/" + c.Param("token")
	if c.Request.Method == http.MethodPost {
		// A refused acceptance goes back to the link (post/redirect/get):
		// its messages ride in the sealed form cookie, never the password.
		s.redirectWithCookie(c, path, status, errs, path)
		return
	}
	v := invitationView{Invitation: inv, Action: path, LoginURL: "/login?next=" + url.QueryEscape(path), Errors: errs,
		PasswordForm: inv.Mailed}
	if v.Errors == nil {
		v.Errors = formErrors{}
	}
	if sess != nil {
		v.SignedInAs = sess.Email
		if sess.Email != inv.Email {
			v.WrongUser = true
			status = http.StatusForbidden
		}
	}
	s.render(c, status, "invitation", "Join panel "+inv.PanelName, "", v)
}

// InvitationPage shows an invitation link: a Join button for the invited
// user, signed in; a password form for a visitor who is signed out; a
// refusal for anyone else signed in.
func (s *Handlers) InvitationPage(c *gin.Context) {
	inv, sess, ok := s.invitationOf(c)
	if !ok {
		return
	}
	var errs formErrors
	status := s.takeCookieStash(c, "/invitations/"+c.Param("token"), &errs)
	s.renderInvitation(c, status, inv, sess, errs)
}

// InvitationAccept accepts an invitation and lands in its panel. Signed in
// as the invited address, the session moves to the panel. Signed out, the
// password is the account's when the address has one, and else creates
// it; either way the visitor is then signed in.
func (s *Handlers) InvitationAccept(c *gin.Context) {
	ctx := c.Request.Context()
	inv, sess, ok := s.invitationOf(c)
	if !ok {
		return
	}
	token := c.Param("token")
	if sess != nil {
		if sess.Email != inv.Email {
			s.renderInvitation(c, http.StatusForbidden, inv, sess, nil)
			return
		}
		p, err := s.store.AcceptInvitation(ctx, token, sess.UserID)
		if err == nil {
			err = s.store.SwitchPanel(ctx, sess.ID, p.ID)
		}
		if err != nil {
			s.acceptFailed(c, inv, sess, err)
			return
		}
		s.joined(c, p)
		return
	}

	// A link the inviter saw may be in anyone's hands: it takes no password,
	// so it neither makes an account nor tells whether one exists.
	if !inv.Mailed {
		s.renderInvitation(c, http.StatusForbidden, inv, nil, formErrors{"": "Sign in with the Herald account of " + inv.Email +
			" first, then open this link again. (Herald sends no e-mail here, so it cannot make a new account through a link; " +
			"whoever runs Herald creates accounts with herald user create.)"})
		return
	}
	// A password is checked here as at sign-in, against the same budgets:
	// the client's and the invited account's.
	if !s.loginAllowed(c, inv.Email) {
		s.renderInvitation(c, http.StatusTooManyRequests, inv, nil,
			formErrors{"password": "Too many attempts. Wait a few minutes and try again."})
		return
	}
	password := c.PostForm("password")
	// Checked first, for an account or not: a short password is refused
	// with the same words either way.
	if err := models.ValidatePassword(password); err != nil {
		s.acceptFailed(c, inv, nil, err)
		return
	}
	var user *models.User
	var panel *models.Panel
	_, err := s.store.UserByEmail(ctx, inv.Email)
	switch {
	case errors.Is(err, models.ErrNotFound):
		user, panel, err = s.store.AcceptInvitationAsNewUser(ctx, token, password)
	case err == nil:
		user, err = s.store.CheckPassword(ctx, inv.Email, password)
		if errors.Is(err, models.ErrNotFound) {
			err = &httpx.Error{Status: http.StatusUnauthorized, Field: "password", Msg: "is not the password of the Herald account of " +
				inv.Email + ". Forgot it? Ask whoever runs Herald to set a new one"}
		} else if err == nil {
			panel, err = s.store.AcceptInvitation(ctx, token, user.ID)
		}
	}
	if err != nil {
		s.acceptFailed(c, inv, nil, err)
		return
	}
	s.loginSucceeded(c, inv.Email)
	// A session token the browser already had is dropped, as at sign-in.
	if old, _ := c.Cookie(SessionCookie); old != "" {
		if err := s.store.DeleteSession(ctx, old); err != nil {
			s.FailPage(c, err)
			return
		}
	}
	newToken, _, err := s.store.CreateSession(ctx, user.ID, panel.ID, s.cfg.SessionTTL)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.setCookie(c, SessionCookie, newToken, int(s.cfg.SessionTTL.Seconds()))
	s.joined(c, panel)
}

// acceptFailed answers an acceptance that did not go through; nothing
// changed.
func (s *Handlers) acceptFailed(c *gin.Context, inv *models.InvitationInfo, sess *models.SessionInfo, err error) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		s.FailPage(c, invitationGone) // used or revoked meanwhile
	case errors.Is(err, models.ErrNotInvitee):
		s.renderInvitation(c, http.StatusForbidden, inv, sess, nil)
	default:
		var ce *models.ConflictError
		if errors.As(err, &ce) {
			// The address got an account meanwhile.
			err = &models.ConflictError{Field: "password", Message: "an account with this address exists now: type its password"}
		}
		errs, ok := formError(err)
		if !ok {
			s.FailPage(c, err)
			return
		}
		status, _ := s.classify(c, err)
		s.renderInvitation(c, status, inv, sess, errs)
	}
}

// joined lands in the panel just joined.
func (s *Handlers) joined(c *gin.Context, p *models.Panel) {
	s.log.InfoContext(c.Request.Context(), "invitation accepted", "request_id", c.GetString(httpx.CtxRequestID), "panel", p.Name)
	s.setFlash(c, "ok", "Welcome to panel "+p.Name+": you are a member now.")
	c.Redirect(http.StatusSeeOther, "/webhooks")
}
