package ui

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/templates"
)

// recipientRow is an alert recipient as the settings page lists it.
type recipientRow struct {
	ID    int64
	Email string
	// Scope is the webhook's label, or "" for every webhook of the panel.
	Scope string
	// Unmailable: stored before addresses were checked as the mailer
	// reads them; alerts leave it out (models.Mailable).
	Unmailable bool
	// Confirmed: its owner agreed to the panel's alerts; until then it
	// gets none. AskedAt is when the last link went, nil if none did.
	Confirmed bool
	AskedAt   *time.Time
	// Expired: the last link stopped working before its owner answered.
	Expired bool
}

// AlertRecipientNew adds an address that hears when a webhook of the panel
// (or the one chosen) degrades, is disabled or recovers: the API's
// checks, answered on the page.
func (s *Handlers) AlertRecipientNew(c *gin.Context) {
	ctx := c.Request.Context()
	panel := httpx.PanelOf(c)
	email := strings.TrimSpace(c.PostForm("email"))
	var webhookID *int64
	var err error
	if raw := c.PostForm("webhook_id"); raw != "" {
		id, perr := strconv.ParseInt(raw, 10, 64)
		if _, werr := s.store.Webhook(ctx, panel.ID, id); perr != nil || werr != nil {
			err = &models.ValidationError{Field: "webhook_id", Message: "choose one of the panel's webhooks"}
		}
		webhookID = &id
	}
	var r *models.AlertRecipient
	if err == nil { // the address is checked by AddRecipient, as for the API
		r, err = s.store.AddRecipient(ctx, panel.ID, webhookID, email)
	}
	if err != nil {
		errs, ok := formError(err)
		if !ok {
			s.FailPage(c, err)
			return
		}
		status, _ := s.classify(c, err)
		s.settingsAfterPost(c, status, &settingsPage{RecipientEmail: email, RecipientErrors: errs}, "alert-recipients")
		return
	}
	if r.ConfirmedAt != nil {
		s.setFlash(c, "ok", r.Email+" will get alert e-mail: it agreed to this panel's alerts already.")
	} else {
		kind, msg := s.askConsent(c, panel, r.ID, r.Email)
		s.setFlash(c, kind, r.Email+" added. "+msg)
	}
	c.Redirect(http.StatusSeeOther, "/settings#alert-recipients")
}

// AlertRecipientConfirmationForm mails an unconfirmed recipient the link
// to agree again.
func (s *Handlers) AlertRecipientConfirmationForm(c *gin.Context) {
	id, err := httpx.IDParam(c, "alert recipient")
	var r *models.AlertRecipient
	if err == nil {
		r, err = s.store.Recipient(c.Request.Context(), httpx.PanelOf(c).ID, id)
	}
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "alert recipient not found"))
		return
	}
	if r.ConfirmedAt != nil {
		s.setFlash(c, "ok", r.Email+" has agreed already: it gets alert e-mail.")
	} else {
		kind, msg := s.askConsent(c, httpx.PanelOf(c), r.ID, r.Email)
		s.setFlash(c, kind, msg)
	}
	c.Redirect(http.StatusSeeOther, "/settings#alert-recipients")
}

// askConsent mails the link to agree (health.Consent) and says, as a
// flash, what came of it.
func (s *Handlers) askConsent(c *gin.Context, panel *models.Panel, id int64, email string) (kind, msg string) {
	base := s.publicURL(c)
	outcome, err := s.consent.Ask(c.Request.Context(), panel, id, func(token string) string { return httpx.ConsentLink(base, token) })
	var soon *models.TooSoonError
	var conflict *models.ConflictError
	waits := " " + email + " gets no alert e-mail until its owner agrees."
	switch {
	case errors.As(err, &soon):
		return "error", sentence(soon.Message) + "." + waits
	case errors.As(err, &conflict):
		return "ok", sentence(conflict.Message) + "."
	case err != nil:
		s.log.ErrorContext(c.Request.Context(), "confirmation link not sent", "request_id", c.GetString(httpx.CtxRequestID), "error", err)
		return "error", "No link sent: something went wrong on our side (it is logged); send the link again in a moment." + waits
	case outcome == health.AskNoMailer:
		return "error", "No link sent: e-mail is not configured (HERALD_SMTP_URL)." + waits
	case outcome == health.AskFailed:
		return "error", "No link sent: the mail server did not take it (the error is logged). Check the address, then send the link again." + waits
	}
	return "ok", "A link to agree went to " + email + ": it gets alert e-mail once its owner agrees."
}

// AlertRecipientRemoveForm stops alert e-mail to one recipient.
func (s *Handlers) AlertRecipientRemoveForm(c *gin.Context) {
	id, err := httpx.IDParam(c, "alert recipient")
	if err == nil {
		err = s.store.RemoveRecipient(c.Request.Context(), httpx.PanelOf(c).ID, id)
	}
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "alert recipient not found"))
		return
	}
	s.setFlash(c, "ok", "Removed: that address gets no more alert e-mail.")
	c.Redirect(http.StatusSeeOther, "/settings#alert-recipients")
}

// recipientRows lists the panel's recipients with the label of the webhook
// each is limited to, and the webhooks a new one may be limited to.
func (s *Handlers) recipientRows(c *gin.Context, panelID int64) ([]recipientRow, []models.Webhook, error) {
	ctx := c.Request.Context()
	rs, err := s.store.ListRecipients(ctx, panelID)
	if err != nil {
		return nil, nil, err
	}
	ws, err := s.store.ListWebhooks(ctx, panelID)
	if err != nil {
		return nil, nil, err
	}
	labels := map[int64]string{}
	for _, w := range ws {
		labels[w.ID] = w.Label
	}
	rows := make([]recipientRow, len(rs))
	for i, r := range rs {
		rows[i] = recipientRow{ID: r.ID, Email: r.Email, Unmailable: !models.Mailable(r.Email),
			Confirmed: r.ConfirmedAt != nil, AskedAt: r.ConfirmSentAt,
			Expired: r.ConfirmedAt == nil && r.ConfirmExpiresAt != nil && !s.store.Now().Before(*r.ConfirmExpiresAt)}
		if r.WebhookID != nil {
			rows[i].Scope = cmp.Or(labels[*r.WebhookID], "webhook "+strconv.FormatInt(*r.WebhookID, 10))
		}
	}
	return rows, ws, nil
}

// Test alerts a panel may send in an hour: enough to check a mail setup,
// too few to spam the recipients.
const testAlertRateLimit = 10

// AlertTestSend is Settings' "Send a test alert": an e-mail to every
// alert recipient of the panel, now, so people can see that alerts reach
// them. It says plainly when they cannot: no mail server configured, or
// nobody to send to.
func (s *Handlers) AlertTestSend(c *gin.Context) {
	kind, msg := s.sendTestAlert(c)
	s.setFlash(c, kind, msg)
	c.Redirect(http.StatusSeeOther, "/settings#alert-recipients")
}

// sendTestAlert sends the test alert and says how it went, as a flash.
func (s *Handlers) sendTestAlert(c *gin.Context) (kind, msg string) {
	ctx := c.Request.Context()
	panel := httpx.PanelOf(c)
	if s.mailer == nil {
		return "error", "No test alert sent: e-mail is not configured (HERALD_SMTP_URL), so alerts are recorded, not sent."
	}
	rs, err := s.store.ListRecipients(ctx, panel.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "alert recipients not read", "request_id", c.GetString(httpx.CtxRequestID), "error", err)
		return "error", "No test alert sent: the recipients could not be read. Try again in a moment."
	}
	var all, waiting []string
	for _, r := range rs {
		e := models.EmailKey(r.Email)
		if r.ConfirmedAt == nil {
			if !slices.Contains(waiting, e) {
				waiting = append(waiting, e)
			}
		} else if !slices.Contains(all, e) {
			all = append(all, e)
		}
	}
	for _, e := range all { // agreed through another of its rows
		waiting = slices.DeleteFunc(waiting, func(w string) bool { return w == e })
	}
	to, unmailable := models.SplitMailable(all) // left out, as alerts leave them out
	leftOut := ""
	if len(unmailable) > 0 {
		leftOut = " Left out, as alerts leave them out: " + strings.Join(unmailable, ", ") +
			" (mail cannot be sent to these addresses as written; remove them and add them again correctly)."
	}
	if len(waiting) > 0 {
		leftOut += " Not sent to " + strings.Join(waiting, ", ") + ": they have not agreed to alert e-mail yet."
	}
	switch {
	case len(to) == 0 && len(unmailable) > 0:
		return "error", "No test alert sent: no recipient can be mailed." + leftOut
	case len(to) == 0 && len(waiting) > 0:
		return "error", "No test alert sent: no recipient has agreed to alert e-mail yet." + leftOut
	case len(to) == 0:
		return "error", "No test alert sent: nobody gets alert e-mail yet. Add a recipient first."
	case !s.allow(c, "test-alert:"+strconv.FormatInt(panel.ID, 10), testAlertRateLimit, time.Hour):
		return "error", "No test alert sent: this panel sent many in the last hour. Wait a while and try again."
	}
	t, err := templates.TestAlertMail()
	var text, body string
	if err == nil {
		text, body, err = t.Render(map[string]string{"Panel": panel.Name, "Stop": mail.StopMark})
	}
	if err != nil {
		s.log.ErrorContext(ctx, "test alert not written", "request_id", c.GetString(httpx.CtxRequestID), "error", err)
		return "error", "No test alert sent: something went wrong on our side (it is logged)."
	}
	// Each recipient gets a copy, as alerts do: the answer names the
	// addresses the mail server refused, which alerts would miss too.
	base := s.publicURL(c)
	sent, missed, err := s.mailer.SendEachWith(ctx, to, "[Herald] Test alert for panel "+panel.Name,
		mail.WithStopLink(text, body, health.OptOutLinks(s.store, base, panel.ID)))
	var refused, failed, late []string
	for _, m := range missed {
		switch {
		case mail.Refused(m.Err):
			refused = append(refused, m.To)
		case errors.Is(m.Err, mail.ErrOutOfTime):
			late = append(late, m.To)
		default:
			failed = append(failed, m.To)
		}
	}
	notSent := ""
	if len(refused) > 0 {
		notSent += " The mail server refused " + strings.Join(refused, ", ") + ": replace these addresses."
	}
	if len(failed) > 0 {
		notSent += " Not sent to " + strings.Join(failed, ", ") + ": the mail server did not take it (the error is logged)."
	}
	if len(late) > 0 {
		notSent += " Not sent to " + strings.Join(late, ", ") + ": the mail server was too slow for them all (alerts try them again later)."
	}
	if len(missed) > 0 {
		s.log.WarnContext(ctx, "test alert not sent to every recipient", "request_id", c.GetString(httpx.CtxRequestID),
			"sent", len(sent), "error", mail.MissedError(missed))
	} else if err != nil { // a message that could not be written
		s.log.WarnContext(ctx, "test alert not sent", "request_id", c.GetString(httpx.CtxRequestID), "error", err)
	}
	if len(sent) == 0 {
		return "error", "The test alert could not be sent." + notSent + leftOut
	}
	if len(missed) > 0 {
		return "error", "Test alert sent to " + strings.Join(sent, ", ") + "." + notSent + leftOut
	}
	return "ok", "Test alert sent to " + strings.Join(sent, ", ") + "." + leftOut
}
