package ui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/templates"
)

// Invitations a user may make in an hour: plenty for a team, too few to
// spam addresses through Herald's mail server.
const (
	inviteRateLimit  = 30
	inviteRatePeriod = time.Hour
)

// inviteResult is what the inviter sees once after inviting: the link, and
// whether it was also e-mailed.
type inviteResult struct {
	Email string
	Link  string
	// Mail is "sent", "failed" or "" when SMTP is not configured.
	Mail string
}

// PanelUserAdd invites an address to this panel. Nobody is added: the
// person joins by opening the link and accepting. The answer is the same
// whether or not the address has an account, so this form tells no one
// who uses Herald.
func (s *Handlers) PanelUserAdd(c *gin.Context) {
	ctx := c.Request.Context()
	sess, panel := sessionOf(c), httpx.PanelOf(c)
	email := strings.TrimSpace(c.PostForm("email"))
	if !s.allow(c, "invite:"+strconv.FormatInt(sess.UserID, 10), inviteRateLimit, inviteRatePeriod) {
		s.settingsAfterPost(c, http.StatusTooManyRequests, &settingsPage{UserEmail: email,
			UserErrors: formErrors{"email": "You sent many invitations in the last hour. Wait a while and try again."}}, "users")
		return
	}
	token, inv, err := s.store.CreateInvitation(ctx, panel.ID, sess.UserID, email)
	if err != nil {
		errs, ok := formError(err)
		if !ok {
			s.FailPage(c, err)
			return
		}
		status, _ := s.classify(c, err)
		s.settingsAfterPost(c, status, &settingsPage{UserEmail: email, UserErrors: errs}, "users")
		return
	}
	link := s.publicURL(c) + "/invitations/" + token
	res := &inviteResult{Email: inv.Email, Link: link}
	if s.mailer != nil {
		// With mail, only the owner of the address ever holds the link:
		// shown to the inviter, it would let them accept it, and so
		// create an account in someone else's name or learn whether the
		// address has one.
		res.Link, res.Mail = "", "sent"
		err := s.mailInvitation(ctx, sess.Email, panel, inv, link)
		if err == nil {
			err = s.store.MarkInvitationMailed(ctx, token)
		}
		if err != nil {
			s.log.WarnContext(ctx, "invitation e-mail not sent", "request_id", c.GetString(httpx.CtxRequestID), "invitation_id", inv.ID, "error", err)
			res.Mail = "failed"
		}
	}
	s.log.InfoContext(ctx, "invitation created", "request_id", c.GetString(httpx.CtxRequestID), "invitation_id", inv.ID,
		"panel", panel.Name, "invited_by", sess.UserID)
	// The link is a secret shown once, as a new ingest key is: sealed in
	// the server-side stash, never in a cookie (the flash) or a URL.
	s.settingsAfterPost(c, http.StatusOK, &settingsPage{Invited: res}, "users")
}

// publicURL is the base of links Herald hands out: HERALD_PUBLIC_URL, or
// the address this request came to.
func (s *Handlers) publicURL(c *gin.Context) string {
	return httpx.PublicURL(c, s.cfg.PublicURL, s.cfg.SecureCookies)
}

// mailInvitation e-mails the link to the invited address, waiting for the
// mail server at most 20 s. The expiry is in the inviting panel's time
// zone, as its pages show times.
func (s *Handlers) mailInvitation(ctx context.Context, inviter string, panel *models.Panel, inv *models.Invitation, link string) error {
	t, err := templates.InvitationMail()
	if err != nil {
		return err
	}
	text, html, err := t.Render(map[string]string{"Inviter": inviter, "Panel": panel.Name, "Email": inv.Email, "Link": link,
		"Expires": models.ZonedTime(inv.ExpiresAt, panel.Location())})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	return s.mailer.Send(ctx, []string{inv.Email}, "[Herald] "+inviter+" invited you to panel "+panel.Name, text, html)
}

// InvitationRevokeForm revokes a pending invitation of this panel: its
// link stops working.
func (s *Handlers) InvitationRevokeForm(c *gin.Context) {
	id, err := httpx.IDParam(c, "invitation")
	var inv *models.Invitation
	if err == nil {
		inv, err = s.store.RevokeInvitation(c.Request.Context(), httpx.PanelOf(c).ID, id)
	}
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "invitation not found"))
		return
	}
	s.setFlash(c, "ok", "Invitation for "+inv.Email+" revoked: its link no longer works.")
	c.Redirect(http.StatusSeeOther, "/settings#users")
}

// PanelLeave takes the signed-in user out of this panel. Their sessions
// move to another of their panels; with none left they are signed out.
// The last member may not leave: nobody could then see the panel or invite
// anyone to it but an operator with the command line.
func (s *Handlers) PanelLeave(c *gin.Context) {
	ctx := c.Request.Context()
	sess, panel := sessionOf(c), httpx.PanelOf(c)
	remaining, err := s.store.LeavePanel(ctx, sess.UserID, panel.ID)
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.settingsAfterPost(c, http.StatusConflict, &settingsPage{LeaveError: sentence(ce.Message) + "."}, "users")
		return
	case err != nil:
		s.FailPage(c, httpx.NotFoundAs(err, "you are not a member of this panel"))
		return
	}
	s.log.InfoContext(ctx, "user left panel", "request_id", c.GetString(httpx.CtxRequestID), "user_id", sess.UserID, "panel", panel.Name)
	if len(remaining) == 0 {
		s.setCookie(c, SessionCookie, "", -1)
		s.setFlash(c, "ok", "You left panel "+panel.Name+" and belong to no panel now, so you are signed out.")
		c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	s.setFlash(c, "ok", "You left panel "+panel.Name+". You are in panel "+remaining[0].Name+" now.")
	c.Redirect(http.StatusSeeOther, "/webhooks")
}
