package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// settingsPage is the panel's settings: ingest keys, users (members and
// invitations) and alert recipients.
type settingsPage struct {
	// ZoneTyped and ZoneError are a refused time zone and why.
	ZoneTyped, ZoneError string
	Keys                 []models.Token
	// NewKey is an ingest key just made, shown this once.
	NewKey    string
	KeyLabel  string
	KeyErrors formErrors
	// Users are the panel's members; Invitations those invited and not
	// yet joined.
	Users       []models.User
	Invitations []models.InvitationInfo
	UserEmail   string
	// UserErrors are the invitation form's, by field.
	UserErrors formErrors
	// Invited is an invitation just made, its link shown this once.
	Invited *inviteResult
	// LeaveError says why the user could not leave the panel.
	LeaveError string
	// Recipients get alert e-mail; a new one may be limited to one of
	// Webhooks.
	Recipients      []recipientRow
	Webhooks        []models.Webhook
	RecipientEmail  string
	RecipientErrors formErrors
}

// SettingsShow shows the panel's settings.
func (s *Handlers) SettingsShow(c *gin.Context) {
	s.renderSettings(c, http.StatusOK, &settingsPage{})
}

func (s *Handlers) renderSettings(c *gin.Context, status int, p *settingsPage) {
	ctx := c.Request.Context()
	panel := httpx.PanelOf(c)
	var err error
	if p.Keys, err = s.store.ListTokens(ctx, panel.ID, models.TokenIngest); err == nil {
		p.Users, err = s.store.PanelUsers(ctx, panel.ID)
	}
	if err == nil {
		p.Invitations, err = s.store.PendingInvitations(ctx, panel.ID)
	}
	if err == nil {
		p.Recipients, p.Webhooks, err = s.recipientRows(c, panel.ID)
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	if p.KeyErrors == nil {
		p.KeyErrors = formErrors{}
	}
	if p.UserErrors == nil {
		p.UserErrors = formErrors{}
	}
	if p.RecipientErrors == nil {
		p.RecipientErrors = formErrors{}
	}
	s.render(c, status, "settings", "Settings", "settings", p)
}
