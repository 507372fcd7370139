package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// StepTest is what a journey step's test-send came to.
type StepTest struct {
	Webhook    string `json:"webhook"`
	Contact    string `json:"contact"`
	Passed     bool   `json:"passed"` // the endpoint answered 2xx
	StatusCode int    `json:"status_code"`
	LatencyMS  int    `json:"latency_ms"`
	Body       string `json:"body"` // the first 4 KiB of the response
	Error      string `json:"error"`
	ErrorClass string `json:"error_class"`
}

// recentEventsForTest bounds the contact's events searched for the one a
// test-send carries.
const recentEventsForTest = 50

// TestSendStep sends the webhook step node of journey j once, for contact
// c with its real attributes, data-table rows and latest event of the
// trigger's name: the item is the engine's own (journey.TestItem), marked
// "test": true, sent by the egress client as a webhook test is. It writes
// no delivery and no run, so no journey stat counts it and no run moves.
func (s *Handlers) TestSendStep(ctx context.Context, panel *models.Panel, j *models.Journey, node string, c *models.Contact) (*StepTest, error) {
	var def journey.Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, fmt.Errorf("journey %d: %w", j.ID, err)
	}
	n := def.Node(node)
	switch {
	case n == nil:
		return nil, httpx.NotFound("step not found")
	case n.Type != journey.TypeWebhook:
		return nil, httpx.BadRequest("node", "only a webhook step sends anything to test")
	}
	w, err := s.store.Webhook(ctx, panel.ID, n.WebhookID)
	if err != nil {
		return nil, httpx.NotFoundAs(err, "the step's webhook no longer exists")
	}
	spec, err := s.store.Spec(w)
	if err != nil {
		return nil, err
	}
	events, err := s.store.ContactEvents(ctx, panel.ID, c.ID, recentEventsForTest)
	if err != nil {
		return nil, err
	}
	var latest *models.Event
	if t := def.Trigger(); t != nil {
		for i := range events {
			if t.Event == "" || strings.EqualFold(events[i].Name, t.Event) {
				latest = &events[i]
				break
			}
		}
	}
	var data map[string]json.RawMessage
	if len(n.UDTParams) > 0 {
		if data, err = s.store.ContactDataIn(ctx, s.store.SQLDB(), panel.ID, c.ID, n.UDTParams); err != nil {
			return nil, err
		}
	}
	asset := models.AssetInfo{ID: w.ID, Label: w.Label, Status: w.Status, HashPII: spec.HashPII}
	item, err := journey.TestItem(j.Name, &def, node, asset, c, latest, data, s.now())
	if err != nil {
		return nil, httpx.BadRequest("node", err.Error())
	}
	res := s.outbox.Sender.SendOne(ctx, panel.Name, &spec, item)
	out := &StepTest{Webhook: w.Label, Contact: c.Key(), StatusCode: res.StatusCode, LatencyMS: int(res.Latency.Milliseconds()),
		Body: string(res.Body), Error: res.ErrorText(), ErrorClass: res.ErrClass,
		Passed: res.Err == nil && res.StatusCode >= http.StatusOK && res.StatusCode < http.StatusMultipleChoices}
	s.log.InfoContext(ctx, "journey step test-sent", "panel", panel.ID, "journey", j.ID, "node", node, "webhook_id", w.ID,
		"contact_id", c.ID, "status_code", res.StatusCode, "error_class", res.ErrClass)
	return out, nil
}
