package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ContactEvents are a contact's latest events, newest first, as received.
func (s *Store) ContactEvents(ctx context.Context, panelID, contactID int64, limit int) ([]Event, error) {
	var out []Event
	err := s.db.WithContext(ctx).Where("contact_id = ? AND panel_id = ?", contactID, panelID).
		Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: contact events: %w", err)
	}
	return out, nil
}

// ContactRuns are a contact's runs in these journeys (the panel's),
// newest first. The journey ids let the (journey_id, contact_id) index
// answer.
func (s *Store) ContactRuns(ctx context.Context, panelID, contactID int64, journeyIDs []int64, limit int) ([]Run, error) {
	var out []Run
	err := s.db.WithContext(ctx).Where("journey_id IN ? AND contact_id = ? AND panel_id = ?", journeyIDs, contactID, panelID).
		Order("started_at DESC, id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: contact runs: %w", err)
	}
	return out, nil
}

// DeliveryContact is the contact of a journey or subscription delivery of
// the panel (deliveries.contact_id; migration 00022 filled it for the
// journey deliveries written before it).
func (s *Store) DeliveryContact(ctx context.Context, panelID int64, deliveryID uuid.UUID) (*Contact, error) {
	var contactID int64
	err := s.sql.QueryRowContext(ctx, `SELECT contact_id FROM deliveries
		WHERE id = $1 AND panel_id = $2 AND contact_id IS NOT NULL`, deliveryID, panelID).Scan(&contactID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		return nil, fmt.Errorf("models: delivery contact: %w", err)
	}
	return s.ContactByID(ctx, panelID, contactID)
}
