package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// WebhookList lists the panel's assets with their latest tests.
func (s *Handlers) WebhookList(c *gin.Context) {
	ctx := c.Request.Context()
	ws, err := s.store.ListWebhooks(ctx, httpx.PanelOf(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	ids := make([]int64, len(ws))
	for i := range ws {
		ids[i] = ws[i].ID
	}
	tests, err := s.store.LastTests(ctx, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]webhookJSON, 0, len(ws))
	for i := range ws {
		var last *models.WebhookTest
		if t, ok := tests[ws[i].ID]; ok {
			last = &t
		}
		w, err := s.presentWebhook(&ws[i], last)
		if err != nil {
			s.fail(c, err)
			return
		}
		out = append(out, w)
	}
	c.JSON(http.StatusOK, gin.H{"webhooks": out})
}
