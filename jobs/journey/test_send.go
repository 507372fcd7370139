package journey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/models"
)

// TestSend is a webhook step's test-send made ready: the asset it goes to,
// as stored, and the item the step would send for the contact.
// delivery.Service.SendStepTest sends it.
type TestSend struct {
	JourneyID int64
	Node      string
	Webhook   *models.Webhook
	Spec      models.WebhookSpec
	Contact   *models.Contact
	Item      []byte
}

// recentEventsForTest bounds the contact's events searched for the one a
// test-send carries.
const recentEventsForTest = 50

// PrepareTestSend builds the test-send of webhook step node of journey j
// for contact c with its real attributes, data-table rows and latest
// event of the trigger's name: the item is the engine's own (TestItem),
// marked "test": true. It writes nothing, so no run moves and no stat
// counts it. A step that is missing, or whose webhook is, is a
// *models.NotFoundError; a step that sends nothing a *models.ValidationError
// on node.
func (e *Engine) PrepareTestSend(ctx context.Context, j *models.Journey, node string, c *models.Contact) (*TestSend, error) {
	var def Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, fmt.Errorf("journey %d: %w", j.ID, err)
	}
	n := def.Node(node)
	switch {
	case n == nil:
		return nil, &models.NotFoundError{Message: "step not found"}
	case n.Type != TypeWebhook:
		return nil, &models.ValidationError{Field: "node", Message: "only a webhook step sends anything to test"}
	}
	w, err := e.Store.Webhook(ctx, j.PanelID, n.WebhookID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, &models.NotFoundError{Message: "the step's webhook no longer exists"}
	}
	if err != nil {
		return nil, err
	}
	spec, err := e.Store.Spec(w)
	if err != nil {
		return nil, err
	}
	events, err := e.Store.ContactEvents(ctx, j.PanelID, c.ID, recentEventsForTest)
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
		if data, err = e.Store.ContactDataIn(ctx, e.Store.SQLDB(), j.PanelID, c.ID, n.UDTParams); err != nil {
			return nil, err
		}
	}
	asset := models.AssetInfo{ID: w.ID, Label: w.Label, Status: w.Status, HashPII: spec.HashPII}
	item, err := TestItem(j.Name, &def, node, asset, c, latest, data, e.Store.Now())
	if err != nil {
		return nil, &models.ValidationError{Field: "node", Message: err.Error()}
	}
	return &TestSend{JourneyID: j.ID, Node: node, Webhook: w, Spec: spec, Contact: c, Item: item}, nil
}
