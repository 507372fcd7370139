package ui

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// webhookListRow is one line of the webhook list.
type webhookListRow struct {
	Webhook models.Webhook
	State   webhookState
	Summary models.WebhookSummary
	// Rate is the 24 h success rate; HasRate is false without requests.
	Rate    float64
	HasRate bool
}

// WebhookListPage lists the panel's webhooks: where each stands, its
// latest request and its success rate over the last 24 hours.
func (s *Handlers) WebhookListPage(c *gin.Context) {
	ctx := c.Request.Context()
	panel := httpx.PanelOf(c)
	ws, err := s.store.ListWebhooks(ctx, panel.ID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	sums, err := s.store.WebhookSummaries(ctx, panel.ID, s.now().Add(-24*time.Hour))
	if err != nil {
		s.FailPage(c, err)
		return
	}
	rows := make([]webhookListRow, len(ws))
	for i := range ws {
		sum := sums[ws[i].ID]
		rows[i] = webhookListRow{Webhook: ws[i], State: stateOf(&ws[i], s.now()), Summary: sum}
		rows[i].Rate, rows[i].HasRate = sum.SuccessRate()
	}
	s.render(c, http.StatusOK, "webhooks", "Webhooks", "webhooks", rows)
}
