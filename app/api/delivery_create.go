package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/payload"
	"github.com/heraldhq/herald/models"
)

// maxItemsPerRequest bounds one deliveries request (the body cap bounds it too).
const maxItemsPerRequest = 1000

// DeliveryCreate writes items to a webhook's outbox: the way integrations
// fire a webhook without a journey. The rows are in PostgreSQL before the
// 202 is sent; a webhook out of service holds them.
func (s *Handlers) DeliveryCreate(c *gin.Context) {
	ctx := c.Request.Context()
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if w.Status == models.StatusUntested {
		s.fail(c, &models.ConflictError{Message: "webhook is untested: it takes deliveries once a test passed and it was activated"})
		return
	}
	var in struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := httpx.DecodeJSON(c, &in); err != nil {
		s.fail(c, err)
		return
	}
	if len(in.Items) == 0 || len(in.Items) > maxItemsPerRequest {
		s.fail(c, httpx.BadRequest("items", fmt.Sprintf("send 1 to %d items", maxItemsPerRequest)))
		return
	}
	now := s.now()
	rows := make([]models.Delivery, len(in.Items))
	out := make([]string, len(in.Items))
	for i, raw := range in.Items {
		var fields map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // numbers reach the receiver exactly as written
		if err := dec.Decode(&fields); err != nil || fields == nil {
			s.fail(c, httpx.BadRequest(fmt.Sprintf("items[%d]", i), "must be a JSON object"))
			return
		}
		if w.HashPII {
			payload.HashPII(fields)
		}
		id := models.NewID(now)
		item, err := payload.EncodeItem(models.DeliveryID(id), fields)
		if err != nil {
			s.fail(c, httpx.BadRequest(fmt.Sprintf("items[%d]", i), "cannot be encoded: "+err.Error()))
			return
		}
		// An item's "event", when it is text, names it in the delivery log.
		name, _ := fields["event"].(string)
		rows[i] = models.Delivery{ID: id, PanelID: w.PanelID, WebhookID: w.ID, Item: item, EventName: name}
		out[i] = models.DeliveryID(id)
	}
	if err := s.webhooks(c).Create(ctx, w, rows); err != nil {
		s.fail(c, httpx.NotFoundAs(err, "webhook not found")) // deleted while this request ran
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"delivery_ids": out, "status": rows[0].Status})
}
