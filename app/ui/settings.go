package ui

import (
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
	// MailConfigured: alerts are e-mailed (HERALD_SMTP_URL); without it
	// they are only recorded, and the page says so.
	MailConfigured bool
	// Alerts are the panel's latest alerts and what became of them.
	Alerts []alertRow
	// IngestURL is the ingest API's full address, with a sample source.
	IngestURL string
	// EventFailures are the latest events set aside unprocessed, of
	// EventFailureCount in all (models.SetEventAside).
	EventFailures     []models.EventFailure
	EventFailureCount int64
}

// AllEventFailuresShown: the page lists every event set aside.
func (p *settingsPage) AllEventFailuresShown() bool {
	return int64(len(p.EventFailures)) >= p.EventFailureCount
}

// CurlLine is a ready command that sends one event with the key just made.
func (p *settingsPage) CurlLine() string {
	key := p.NewKey
	if key == "" {
		key = "$HERALD_INGEST_KEY"
	}
	return "curl -X POST " + p.IngestURL + ` -H "Authorization: Bearer ` + key +
		`" -H "Content-Type: application/json" -d '{"event": "open", "properties": {"channel": "email"}, "user": {"email": "ann@example.com"}}'`
}

// SettingsShow shows the panel's settings.
// What a form of the page posted (a new key, an invitation link, a
// refused address) comes back through the stash, once.
func (s *Handlers) SettingsShow(c *gin.Context) {
	p := &settingsPage{}
	status := s.takeStash(c, "settings", p)
	s.renderSettings(c, status, p)
}

// settingsAfterPost ends a post of a settings form: p (the form's outcome)
// is shown by the settings page it redirects to, at anchor.
func (s *Handlers) settingsAfterPost(c *gin.Context, status int, p *settingsPage, anchor string) {
	s.redirectWith(c, "settings", status, p, "/settings#"+anchor)
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
	var alerts []models.AlertEntry
	if err == nil {
		alerts, err = s.store.AlertHistory(ctx, panel.ID, 0, 20)
	}
	if err == nil {
		p.EventFailures, p.EventFailureCount, err = s.store.EventFailures(ctx, panel.ID, 20)
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p.Alerts = alertRows(alerts, s.store.Now())
	p.MailConfigured = s.mailer != nil
	p.IngestURL = s.publicURL(c) + "/v1/webhook/crm"
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
