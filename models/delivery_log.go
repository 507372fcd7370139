package models

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// maxTimeline bounds the attempts one delivery's timeline lists: a
// delivery gets at most 30 requests (max_attempts), more only by replays.
const maxTimeline = 200

// WebhookDelivery loads one delivery of a panel's webhook; another
// webhook's or panel's is ErrNotFound.
func (s *Store) WebhookDelivery(ctx context.Context, panelID, webhookID int64, id uuid.UUID) (*Delivery, error) {
	var d Delivery
	err := s.db.WithContext(ctx).Where("id = ? AND webhook_id = ? AND panel_id = ?", id, webhookID, panelID).Take(&d).Error
	if err != nil {
		return nil, fmt.Errorf("models: delivery %s: %w", DeliveryID(id), notFound(err))
	}
	return &d, nil
}

// DeliveryTimeline is every request that carried delivery d, oldest first:
// the attempts the delivery lists (attempt_ids, appended as each request
// is recorded), and its last attempt (which an attempt logged before those
// ids were kept may be the only trace of).
func (s *Store) DeliveryTimeline(ctx context.Context, d *Delivery) ([]Attempt, error) {
	last := int64(0)
	if d.LastAttemptID != nil {
		last = *d.LastAttemptID
	}
	var out []Attempt
	err := s.db.WithContext(ctx).Where(`webhook_id = ? AND panel_id = ? AND (id = ANY(ARRAY(
			SELECT unnest(attempt_ids) FROM deliveries WHERE id = ? AND panel_id = ?)) OR id = ?)`,
		d.WebhookID, d.PanelID, d.ID, d.PanelID, last).Order("id").Limit(maxTimeline).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: timeline of %s: %w", DeliveryID(d.ID), err)
	}
	return out, nil
}
