package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

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
//
// The webhook is not loaded for every request: the items are prepared as
// its hash_pii was last read, and the statement that writes them checks
// that assumption (with the panel and the status) in PostgreSQL. When it
// does not hold, nothing is written and the webhook is loaded afresh, which
// also gives a missing or untested webhook its answer.
func (s *Handlers) DeliveryCreate(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := httpx.IDParam(c, "webhook")
	if err != nil {
		s.fail(c, err)
		return
	}
	expect := models.WebhookExpectation{PanelID: httpx.PanelOf(c).ID, WebhookID: id}
	known := false
	if expect.HashPII, known = s.hashPII.get(expect.PanelID, id); !known {
		if expect.HashPII, err = s.readHashPII(c); err != nil {
			s.fail(c, err)
			return
		}
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
	// A write that finds the webhook other than assumed reads it again,
	// which answers for a webhook gone or untested; twice at most, then
	// the webhook keeps changing under this request.
	for reads := 0; ; reads++ {
		rows, out, err := s.deliveryRows(expect, in.Items)
		if err != nil {
			s.fail(c, err)
			return
		}
		written, ok, err := s.webhooks(c).Create(ctx, expect, rows)
		switch {
		case err != nil:
			s.fail(c, err)
			return
		case ok:
			c.JSON(http.StatusAccepted, gin.H{"delivery_ids": out, "status": written.Status})
			return
		}
		if expect.HashPII, err = s.readHashPII(c); err != nil {
			s.fail(c, err)
			return
		}
		if reads == 2 {
			s.fail(c, &models.ConflictError{Message: "webhook changed while this request ran; nothing was written, send it again"})
			return
		}
	}
}

// readHashPII loads the request's webhook and remembers its hash_pii. A
// webhook that takes no deliveries is an error: not found, or untested.
func (s *Handlers) readHashPII(c *gin.Context) (bool, error) {
	w, err := s.loadWebhook(c)
	if err != nil {
		return false, err
	}
	if w.Status == models.StatusUntested {
		return false, &models.ConflictError{Message: "webhook is untested: it takes deliveries once a test passed and it was activated"}
	}
	s.hashPII.put(w.PanelID, w.ID, w.HashPII)
	return w.HashPII, nil
}

// deliveryRows turns a request's items into outbox rows for the webhook
// expect names, hashing PII when it says so, and their delivery ids.
func (s *Handlers) deliveryRows(expect models.WebhookExpectation, items []json.RawMessage) ([]models.Delivery, []string, error) {
	now := s.now()
	rows := make([]models.Delivery, len(items))
	out := make([]string, len(items))
	for i, raw := range items {
		var fields map[string]any // numbers reach the receiver exactly as written
		if err := models.DecodeExact(raw, &fields); err != nil || fields == nil {
			return nil, nil, httpx.BadRequest(fmt.Sprintf("items[%d]", i), "must be a JSON object")
		}
		if expect.HashPII {
			fields = payload.HashPIIMap(fields)
		}
		id := models.NewID(now)
		item, err := payload.EncodeItem(models.DeliveryID(id), fields)
		if err != nil {
			return nil, nil, httpx.BadRequest(fmt.Sprintf("items[%d]", i), "cannot be encoded: "+err.Error())
		}
		// An item's "event", when it is text, names it in the delivery log.
		name, _ := fields["event"].(string)
		rows[i] = models.Delivery{ID: id, PanelID: expect.PanelID, WebhookID: expect.WebhookID, Item: item, EventName: name}
		out[i] = models.DeliveryID(id)
	}
	return rows, out, nil
}

// maxRememberedWebhooks bounds hashSettings; past it, it starts afresh.
const maxRememberedWebhooks = 10_000

// hashSettings remembers webhooks' hash_pii per panel and webhook. It is
// only an assumption for EnqueueForWebhook to check, never trusted on its
// own, so a stale entry costs a read, and one panel's entries cannot serve
// another's requests (the panel is part of the key and of the check).
type hashSettings struct {
	mu sync.Mutex
	m  map[[2]int64]bool
}

func (h *hashSettings) get(panelID, webhookID int64) (hash, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hash, ok = h.m[[2]int64{panelID, webhookID}]
	return hash, ok
}

func (h *hashSettings) put(panelID, webhookID int64, hash bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil || len(h.m) >= maxRememberedWebhooks {
		h.m = make(map[[2]int64]bool)
	}
	h.m[[2]int64{panelID, webhookID}] = hash
}
