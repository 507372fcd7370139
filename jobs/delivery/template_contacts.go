package delivery

import (
	"context"

	"github.com/heraldhq/herald/jobs/payload"
	"github.com/heraldhq/herald/models"
)

// templateContacts loads, for a template asset only, the contact of each
// claimed row (nil for a row about none, such as an item of the deliveries
// API), in one query confined to the webhook's panel.
//
// They are read when the request is built, not copied into the delivery
// when it is written: the item stays what the form and json formats send,
// a row does not carry every attribute of its contact for a template that
// reads two, and an asset switched to a template later still sees its
// contacts. A retry therefore renders the contact as it is then. With
// hash_pii the attributes are hashed as the items' are.
func (d *Deliverer) templateContacts(ctx context.Context, panelID int64, spec *models.WebhookSpec, rows []models.ClaimedRow) ([]map[string]any, error) {
	if spec.BodyFormat != models.BodyTemplate {
		return nil, nil
	}
	var ids []int64
	for _, r := range rows {
		if r.ContactID != nil {
			ids = append(ids, *r.ContactID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	byID, err := templateContacts(ctx, d.store, panelID, spec, ids)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		if r.ContactID != nil {
			out[i] = byID[*r.ContactID]
		}
	}
	return out, nil
}

// templateContacts loads the contacts (by id) of the panel as a template
// sees them, their attributes hashed when the asset hashes PII: for a
// batch (Deliverer.templateContacts) and a journey step's test-send alike.
func templateContacts(ctx context.Context, store *models.Store, panelID int64, spec *models.WebhookSpec, ids []int64) (map[int64]map[string]any, error) {
	byID, err := store.TemplateContacts(ctx, panelID, ids)
	if err != nil {
		return nil, err
	}
	if spec.HashPII {
		for id, c := range byID {
			byID[id] = payload.HashPIIMap(c)
		}
	}
	return byID, nil
}
