package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/api"
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
		s.FailPage(c, api.WebhookErr(err))
		return
	default:
		s.setFlash(c, "ok", fmt.Sprintf(done, w.Label))
	}
	c.Redirect(http.StatusSeeOther, "/webhooks/"+strconv.FormatInt(id, 10))
}
