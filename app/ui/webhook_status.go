package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// WebhookEnable puts a webhook in service and releases what it held. It
// is refused, with the reason on the page, unless its configuration passed
// a test.
func (s *Handlers) WebhookEnable(c *gin.Context) {
	s.webhookSwitch(c, func(panelID, id int64) (*models.Webhook, error) {
		return s.webhooks(c).Activate(c.Request.Context(), panelID, id)
	},
		"Enabled. “%s” is active.", " (Edit → Test).")
}

// WebhookDisable takes a webhook out of service; its deliveries are held.
func (s *Handlers) WebhookDisable(c *gin.Context) {
	s.webhookSwitch(c, func(panelID, id int64) (*models.Webhook, error) {
		return s.store.DeactivateWebhook(c.Request.Context(), panelID, id)
	}, "Disabled. “%s” holds its deliveries until you enable it.", ".")
}

// webhookSwitch runs an enable or disable and tells the outcome on the
// webhook's page: done (with the label) or why it was refused.
func (s *Handlers) webhookSwitch(c *gin.Context, do func(panelID, id int64) (*models.Webhook, error), done, refusedEnd string) {
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.FailPage(c, err)
		return
	}
	w, err := do(httpx.PanelOf(c).ID, id)
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.setFlash(c, "error", sentence(ce.Message)+refusedEnd)
	case err != nil:
		s.FailPage(c, httpx.WebhookErr(err))
		return
	default:
		s.setFlash(c, "ok", fmt.Sprintf(done, w.Label))
	}
	c.Redirect(http.StatusSeeOther, "/webhooks/"+strconv.FormatInt(id, 10))
}

// WebhookRecover is the banner's "Test now and re-enable" on a webhook
// that is out of service: it tests the saved settings and, on HTTP 200,
// puts the webhook back in service and releases its held deliveries in
// order, saying how many. A failed test says what the endpoint answered
// and changes nothing else.
func (s *Handlers) WebhookRecover(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	target := "/webhooks/" + strconv.FormatInt(w.ID, 10)
	if w.Status == models.StatusActive {
		s.setFlash(c, "ok", "“"+w.Label+"” is already in service.")
		c.Redirect(http.StatusSeeOther, target)
		return
	}
	r, err := s.webhooks(c).TestAndActivate(c.Request.Context(), httpx.PanelOf(c), w)
	var ce *models.ConflictError
	switch {
	case errors.As(err, &ce):
		s.setFlash(c, "error", sentence(ce.Message)+".")
	case err != nil:
		s.FailPage(c, httpx.WebhookErr(err))
		return
	case !r.Test.Passed:
		s.setFlash(c, "error", "Still failing: the test got "+testAnswer(r.Test)+
			". Only HTTP 200 re-enables it; its deliveries stay held.")
	default:
		msg := fmt.Sprintf("Test passed (HTTP 200). “%s” is active again", w.Label)
		if r.Released > 0 {
			msg += fmt.Sprintf(" and sends its %s held, oldest first.", plural(r.Released, "event", "events"))
		} else {
			msg += "; nothing was held."
		}
		s.setFlash(c, "ok", msg)
	}
	c.Redirect(http.StatusSeeOther, target)
}

// testAnswer says what a test request came to: its status, or its error.
func testAnswer(t *models.WebhookTest) string {
	if t.StatusCode != 0 {
		return "HTTP " + strconv.Itoa(t.StatusCode)
	}
	return "no answer (" + t.Error + ")"
}
