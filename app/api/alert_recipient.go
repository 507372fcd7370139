package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// recipientJSON is an alert recipient: of the whole panel, or of one
// webhook. It gets alerts once confirmed: its owner agreed through the
// link mailed to it (confirmation_sent_at, the last one).
type recipientJSON struct {
	ID                 int64      `json:"id"`
	Email              string     `json:"email"`
	WebhookID          *int64     `json:"webhook_id"`
	CreatedAt          time.Time  `json:"created_at"`
	Confirmed          bool       `json:"confirmed"`
	ConfirmationSentAt *time.Time `json:"confirmation_sent_at"`
	// Confirmation says, in the answer to an add or a resend, what
	// became of the link (consentAnswer); Message why none went.
	Confirmation string `json:"confirmation,omitempty"`
	Message      string `json:"message,omitempty"`
}

func recipientOf(r *models.AlertRecipient) recipientJSON {
	return recipientJSON{ID: r.ID, Email: r.Email, WebhookID: r.WebhookID, CreatedAt: r.CreatedAt,
		Confirmed: r.ConfirmedAt != nil, ConfirmationSentAt: r.ConfirmSentAt}
}

// AlertRecipientAdd adds an address that hears about the panel's webhooks,
// or about one webhook when webhook_id is given. Unless the address
// agreed to the panel's alerts already, it is mailed a link to agree
// (confirmation: sent), and gets no alert until it does.
func (s *Handlers) AlertRecipientAdd(c *gin.Context) {
	var in struct {
		Email     string `json:"email"`
		WebhookID *int64 `json:"webhook_id"`
	}
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	panel := httpx.PanelOf(c)
	r, err := s.store.AddRecipient(c.Request.Context(), panel.ID, in.WebhookID, in.Email)
	if err != nil {
		s.fail(c, httpx.WebhookErr(err))
		return
	}
	out := recipientOf(r)
	if r.ConfirmedAt != nil {
		out.Confirmation = "confirmed"
	} else {
		s.ask(c, panel, &out)
	}
	c.JSON(http.StatusCreated, out)
}

// AlertRecipientConfirmation mails an unconfirmed recipient the link to
// agree again: 202 once sent; 409 when it agreed already or e-mail is not
// configured; 429 within models.RecipientConfirmEvery of the last link or
// past the hourly limits; 502 when the mail server did not take it.
func (s *Handlers) AlertRecipientConfirmation(c *gin.Context) {
	id, err := httpx.IDParam(c, "alert recipient")
	if err != nil {
		s.fail(c, err)
		return
	}
	panel := httpx.PanelOf(c)
	out := recipientJSON{ID: id}
	outcome, err := s.consent.Ask(c.Request.Context(), panel, id, s.link(c))
	switch {
	case err != nil:
		s.fail(c, httpx.NotFoundAs(err, "alert recipient not found"))
		return
	case outcome == health.AskNoMailer:
		s.fail(c, &httpx.Error{Status: http.StatusConflict, Msg: "e-mail is not configured (HERALD_SMTP_URL): no link can be sent"})
		return
	case outcome == health.AskFailed:
		s.fail(c, &httpx.Error{Status: http.StatusBadGateway, Msg: "the mail server did not take the e-mail: try again"})
		return
	}
	out.Confirmation = string(outcome)
	c.JSON(http.StatusAccepted, out)
}

// ask mails a new recipient the link to agree and notes in out what came
// of it. The recipient is added either way: a link that could not go is
// sent again through AlertRecipientConfirmation.
func (s *Handlers) ask(c *gin.Context, panel *models.Panel, out *recipientJSON) {
	outcome, err := s.consent.Ask(c.Request.Context(), panel, out.ID, s.link(c))
	var soon *models.TooSoonError
	var declined *models.ConflictError
	switch {
	case errors.As(err, &soon):
		out.Confirmation, out.Message = "not_sent", soon.Message
	case errors.Is(err, models.ErrDeclined) && errors.As(err, &declined):
		out.Confirmation, out.Message = "not_sent", declined.Message
	case err != nil:
		s.log.ErrorContext(c.Request.Context(), "confirmation link not sent", "request_id", c.GetString(httpx.CtxRequestID), "error", err)
		out.Confirmation, out.Message = "failed", "the link could not be sent: send it again"
	default:
		out.Confirmation = string(outcome)
		switch outcome {
		case health.AskNoMailer:
			out.Message = "e-mail is not configured (HERALD_SMTP_URL): no link could be sent, so the address gets no alert yet"
		case health.AskFailed:
			out.Message = "the mail server did not take the e-mail: send the link again"
		}
	}
}

// link makes confirmation links for this request's Herald.
func (s *Handlers) link(c *gin.Context) func(token string) string {
	base := httpx.PublicURL(c, s.publicURL, s.secureCookies)
	return func(token string) string { return httpx.ConsentLink(base, token) }
}

// AlertRecipientList lists the panel's alert recipients.
func (s *Handlers) AlertRecipientList(c *gin.Context) {
	rs, err := s.store.ListRecipients(c.Request.Context(), httpx.PanelOf(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]recipientJSON, len(rs))
	for i := range rs {
		out[i] = recipientOf(&rs[i])
	}
	c.JSON(http.StatusOK, gin.H{"alert_recipients": out})
}

// AlertRecipientRemove removes one.
func (s *Handlers) AlertRecipientRemove(c *gin.Context) {
	id, err := httpx.IDParam(c, "alert recipient")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.RemoveRecipient(c.Request.Context(), httpx.PanelOf(c).ID, id); err != nil {
		s.fail(c, httpx.NotFoundAs(err, "alert recipient not found"))
		return
	}
	c.Status(http.StatusNoContent)
}

// AlertList lists the panel's alerts, newest first (?webhook_id=, ?limit=):
// what was sent, to whom, and why.
func (s *Handlers) AlertList(c *gin.Context) {
	var webhookID int64
	if v := c.Query("webhook_id"); v != "" {
		var err error
		if webhookID, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.fail(c, httpx.BadRequest("webhook_id", "must be a webhook id"))
			return
		}
	}
	limit, err := limitParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	as, err := s.store.ListAlerts(c.Request.Context(), httpx.PanelOf(c).ID, webhookID, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]gin.H, len(as))
	for i, a := range as {
		out[i] = gin.H{"id": a.ID, "webhook_id": a.WebhookID, "state": a.State, "details": a.Details,
			"created_at": a.CreatedAt, "sent_at": a.SentAt, "attempts": a.Attempts, "last_error": a.LastError,
			"recipients": append([]string{}, a.Recipients...)} // whom it reached, so far when unsent
		if a.SentAt == nil && a.Attempts > 0 {
			// When a failed sending is tried again; null and given_up
			// when it is not (refused for good, or a day old).
			out[i]["next_attempt_at"] = a.NextAttemptAt
			out[i]["given_up"] = a.NextAttemptAt == nil
		}
	}
	c.JSON(http.StatusOK, gin.H{"alerts": out})
}

// SettingsGet shows the panel's settings.
func (s *Handlers) SettingsGet(c *gin.Context) {
	p, err := s.store.PanelByID(c.Request.Context(), httpx.PanelOf(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.settingsJSON(p))
}

func (s *Handlers) settingsJSON(p *models.Panel) gin.H {
	return gin.H{"panel": p.Name, "ingest_rate_limit": models.IngestLimit(s.ingestRateLimit, p.IngestRateLimit), "health": p.HealthSettings, "time_zone": cmp.Or(p.TimeZone, "UTC")}
}

// SettingsUpdate changes the panel's ingest rate limit (requests a
// minute) and failure-tracker thresholds.
func (s *Handlers) SettingsUpdate(c *gin.Context) {
	var in struct {
		IngestRateLimit *int             `json:"ingest_rate_limit"`
		Health          *json.RawMessage `json:"health"`
		TimeZone        *string          `json:"time_zone"`
	}
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	var thresholds json.RawMessage
	if in.Health != nil {
		var err error
		if thresholds, err = health.ParseThresholds("health", *in.Health); err != nil {
			s.fail(c, err)
			return
		}
	}
	// A panel may lower its ingest limit, never raise it past the
	// deployment's: that bound is what keeps one panel's ingest from
	// taking the work every panel shares.
	if in.IngestRateLimit != nil && (*in.IngestRateLimit < 1 || *in.IngestRateLimit > s.ingestRateLimit) {
		s.fail(c, httpx.BadRequest("ingest_rate_limit", fmt.Sprintf(
			"must be between 1 and %d requests a minute (the most this deployment allows a panel)", s.ingestRateLimit)))
		return
	}
	p, err := s.store.UpdatePanelSettings(c.Request.Context(), httpx.PanelOf(c).ID, in.IngestRateLimit, thresholds, in.TimeZone)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.settingsJSON(p))
}
