package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SetJourneyArchived archives a stopped or paused journey (the journey
// list hides it) or puts an archived one back on the list. A live or draft
// journey is not archived: a live one would go on taking entries unseen,
// and a draft can be deleted instead.
func (s *Store) SetJourneyArchived(ctx context.Context, panelID, id int64, archived bool) (*Journey, error) {
	var j Journey
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(&j, id).Error; err != nil {
			return notFound(err)
		}
		if !archived {
			j.ArchivedAt = nil
		} else {
			if j.Status != JourneyStopped && j.Status != JourneyPaused {
				return &ConflictError{Message: fmt.Sprintf("a %s journey cannot be archived; only a stopped or paused one can", j.Status)}
			}
			if j.ArchivedAt == nil {
				now := s.Now()
				j.ArchivedAt = &now
			}
		}
		return tx.Model(&j).Select("archived_at").Updates(&j).Error
	})
	if err != nil {
		return nil, fmt.Errorf("models: archive journey %d: %w", id, err)
	}
	return &j, nil
}

// errJourneyRan refuses to delete a journey that has ever run: its runs,
// stats and deliveries tell what it did.
var errJourneyRan = &ConflictError{Message: "a journey that has run cannot be deleted; stop it and archive it instead"}

// DeleteJourney deletes a draft that never ran.
func (s *Store) DeleteJourney(ctx context.Context, panelID, id int64) error {
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		var j Journey
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(&j, id).Error; err != nil {
			return notFound(err)
		}
		if j.Status != JourneyDraft || j.PublishedAt != nil {
			return errJourneyRan
		}
		var ran bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM journey_runs WHERE journey_id = ?)`, j.ID).Scan(&ran).Error; err != nil {
			return err
		}
		if ran {
			return errJourneyRan
		}
		return tx.Delete(&j).Error
	})
	if err != nil {
		return fmt.Errorf("models: delete journey %d: %w", id, err)
	}
	return nil
}

// JourneysUsingWebhook lists the panel's journeys (archived ones too) with
// a webhook step that sends to the webhook.
func (s *Store) JourneysUsingWebhook(ctx context.Context, panelID, webhookID int64) ([]Journey, error) {
	var js []Journey
	err := s.db.WithContext(ctx).Select("id", "panel_id", "name", "status", "archived_at", "updated_at").
		Where("panel_id = ? AND definition->'nodes' @> jsonb_build_array(jsonb_build_object('type', 'webhook', 'webhook_id', ?::bigint))",
			panelID, webhookID).Order("lower(name), id").Find(&js).Error
	if err != nil {
		return nil, fmt.Errorf("models: journeys using webhook %d: %w", webhookID, err)
	}
	return js, nil
}
