package models

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Purposes bound to each encrypted column (see Cipher.Seal).
const (
	purposePassword      = "webhook.basic_auth_password"
	purposeHeaders       = "webhook.headers"
	purposeSigningSecret = "webhook.signing_secret"
)

// Spec decrypts a stored webhook into its configuration in clear.
func (s *Store) Spec(w *Webhook) (WebhookSpec, error) {
	spec := WebhookSpec{
		Label: w.Label, Description: w.Description, URL: w.URL, Method: w.Method,
		BatchSize: w.BatchSize, BatchWaitMS: w.BatchWaitMS, HashPII: w.HashPII, StrictDisable: w.StrictDisable,
		MaxAttempts: w.MaxAttempts, GiveUpAfter: time.Duration(w.GiveUpAfterS) * time.Second,
		RateLimitPerS: w.RateLimitPerS, MaxBodyBytes: w.MaxBodyBytes,
		HealthSettings: w.HealthSettings, AutoProbeMinutes: w.AutoProbeMinutes,
		BodyFormat: w.BodyFormat, BodyTemplate: w.BodyTemplate, TemplateContentType: w.TemplateContentType,
		SignatureScheme: w.SignatureScheme, SignatureHeader: w.SignatureHeader,
	}
	if len(w.Subscriptions) > 0 {
		if err := json.Unmarshal(w.Subscriptions, &spec.Subscriptions); err != nil {
			return spec, fmt.Errorf("models: webhook %d subscriptions: %w", w.ID, err)
		}
		if len(spec.Subscriptions) == 0 {
			spec.Subscriptions = nil // none is nil, as Validate leaves it
		}
	}
	if w.BasicAuthUser != "" {
		pw, err := s.Cipher.Open(purposePassword, w.BasicAuthPassword)
		if err != nil {
			return spec, fmt.Errorf("models: webhook %d: %w", w.ID, err)
		}
		spec.BasicAuth = &BasicAuth{Username: w.BasicAuthUser, Password: string(pw)}
	}
	if len(w.Headers) > 0 {
		raw, err := s.Cipher.Open(purposeHeaders, w.Headers)
		if err != nil {
			return spec, fmt.Errorf("models: webhook %d: %w", w.ID, err)
		}
		if err := json.Unmarshal(raw, &spec.Headers); err != nil {
			return spec, fmt.Errorf("models: webhook %d headers: %w", w.ID, err)
		}
	}
	secret, err := s.Cipher.Open(purposeSigningSecret, w.SigningSecret)
	if err != nil {
		return spec, fmt.Errorf("models: webhook %d: %w", w.ID, err)
	}
	spec.SigningSecret = string(secret)
	return spec, nil
}

// ConfigFingerprint is the keyed hash a test is recorded under.
func (s *Store) ConfigFingerprint(spec *WebhookSpec) []byte {
	return s.Cipher.Fingerprint(spec.fingerprintInput())
}

// seal writes spec into the stored form, encrypting the secrets.
func (s *Store) seal(spec *WebhookSpec, w *Webhook) {
	w.Label, w.Description, w.URL, w.Method = spec.Label, spec.Description, spec.URL, spec.Method
	w.BatchSize, w.BatchWaitMS, w.HashPII, w.StrictDisable = spec.BatchSize, spec.BatchWaitMS, spec.HashPII, spec.StrictDisable
	w.MaxAttempts, w.GiveUpAfterS = spec.MaxAttempts, int(spec.GiveUpAfter/time.Second)
	w.RateLimitPerS, w.MaxBodyBytes = spec.RateLimitPerS, spec.MaxBodyBytes
	w.HealthSettings, w.AutoProbeMinutes = spec.HealthSettings, spec.AutoProbeMinutes
	w.BodyFormat, w.BodyTemplate, w.TemplateContentType = spec.BodyFormat, spec.BodyTemplate, spec.TemplateType()
	w.SignatureScheme, w.SignatureHeader = spec.SignatureScheme, spec.SignatureHeaderName()
	if w.BodyFormat == "" {
		w.BodyFormat = BodyForm
	}
	if w.SignatureScheme == "" {
		w.SignatureScheme = SignatureStandard
	}
	if len(w.HealthSettings) == 0 {
		w.HealthSettings = json.RawMessage(`{}`)
	}
	w.Subscriptions = json.RawMessage(`[]`)
	if len(spec.Subscriptions) > 0 {
		w.Subscriptions, _ = json.Marshal(spec.Subscriptions)
	}
	if len(w.Health) == 0 {
		w.Health = json.RawMessage(`{}`)
	}
	w.BasicAuthUser, w.BasicAuthPassword = "", nil
	if spec.BasicAuth != nil {
		w.BasicAuthUser = spec.BasicAuth.Username
		w.BasicAuthPassword = s.Cipher.Seal(purposePassword, []byte(spec.BasicAuth.Password))
	}
	w.Headers = nil
	if len(spec.Headers) > 0 {
		raw, _ := json.Marshal(spec.Headers)
		w.Headers = s.Cipher.Seal(purposeHeaders, raw)
	}
	w.SigningSecret = s.Cipher.Seal(purposeSigningSecret, []byte(spec.SigningSecret))
	w.ConfigFP = s.ConfigFingerprint(spec)
}

// labelTaken is the error for a duplicate label.
var labelTaken = &ConflictError{Field: "label", Message: "a webhook with this label already exists"}

// CreateWebhook validates spec and stores it as a new, untested asset.
func (s *Store) CreateWebhook(ctx context.Context, panelID int64, spec WebhookSpec) (*Webhook, error) {
	if err := spec.Validate(true); err != nil {
		return nil, err
	}
	w := Webhook{PanelID: panelID, Status: StatusUntested}
	s.seal(&spec, &w)
	if err := s.db.WithContext(ctx).Create(&w).Error; err != nil {
		if uniqueViolation(err, "webhooks_panel_label") {
			return nil, labelTaken
		}
		return nil, fmt.Errorf("models: create webhook: %w", err)
	}
	return &w, nil
}

// Webhook loads one asset of a panel; another panel's asset is ErrNotFound.
func (s *Store) Webhook(ctx context.Context, panelID, id int64) (*Webhook, error) {
	var w Webhook
	err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Take(&w, id).Error
	if err != nil {
		return nil, fmt.Errorf("models: webhook %d: %w", id, notFound(err))
	}
	return &w, nil
}

// WebhookByID loads an asset whatever its panel, for workers that received
// its id from a trusted task.
func (s *Store) WebhookByID(ctx context.Context, id int64) (*Webhook, error) {
	var w Webhook
	if err := s.db.WithContext(ctx).Take(&w, id).Error; err != nil {
		return nil, fmt.Errorf("models: webhook %d: %w", id, notFound(err))
	}
	return &w, nil
}

// ListWebhooks lists a panel's assets by label.
func (s *Store) ListWebhooks(ctx context.Context, panelID int64) ([]Webhook, error) {
	var ws []Webhook
	if err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Order("lower(label), id").Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("models: list webhooks: %w", err)
	}
	return ws, nil
}

// UpdateWebhook applies a change. When the URL, method, auth or headers
// change, a verified asset becomes untested and leaves service until a new
// test passes.
func (s *Store) UpdateWebhook(ctx context.Context, panelID, id int64, in *WebhookInput) (*Webhook, error) {
	var w Webhook
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(&w, id).Error; err != nil {
			return notFound(err)
		}
		spec, err := s.Spec(&w)
		if err != nil {
			return err
		}
		// What was tested, recomputed rather than read from the row: a row
		// sealed before the fingerprint's rules last changed would differ
		// from its own configuration and take a live webhook out of service.
		oldFP := s.ConfigFingerprint(&spec)
		if err := in.Apply(&spec); err != nil {
			return err
		}
		if err := spec.Validate(true); err != nil {
			return err
		}
		s.seal(&spec, &w)
		if string(oldFP) != string(w.ConfigFP) && w.Status.CanMoveTo(StatusUntested) {
			w.Status = StatusUntested
		}
		w.UpdatedAt = s.Now()
		return tx.Save(&w).Error
	})
	switch {
	case uniqueViolation(err, "webhooks_panel_label"):
		return nil, labelTaken
	case err != nil:
		return nil, fmt.Errorf("models: update webhook %d: %w", id, err)
	}
	return &w, nil
}

// DeleteWebhook removes an asset with its tests, attempts and deliveries.
// Deliveries and attempts carry no foreign key (see migrations 00008 and
// 00029), so they are deleted here; writers of deliveries lock the webhook
// first, so the delete waits for them and then takes their rows too. A
// request recorded while the delete runs may leave its attempt behind,
// for the retention sweep: no webhook, and so no page, shows it.
func (s *Store) DeleteWebhook(ctx context.Context, panelID, id int64) error {
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("panel_id = ?", panelID).Delete(&Webhook{}, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Exec(`DELETE FROM deliveries WHERE webhook_id = $1`, id).Error; err != nil {
			return err
		}
		return tx.Exec(`DELETE FROM attempts WHERE webhook_id = $1`, id).Error
	})
	if err != nil {
		return fmt.Errorf("models: delete webhook %d: %w", id, err)
	}
	return nil
}

// ActivateWebhook puts a verified asset in service and releases its held
// deliveries; the caller then flushes it. It is refused with a
// ConflictError unless the current configuration passed a test, run after
// the asset was disabled if the failure tracker disabled it.
func (s *Store) ActivateWebhook(ctx context.Context, panelID, id int64) (w *Webhook, released int64, err error) {
	w = &Webhook{}
	err = s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(w, id).Error; err != nil {
			return notFound(err)
		}
		if w.Status == StatusActive {
			return nil
		}
		if !w.Status.CanMoveTo(StatusActive) {
			return &ConflictError{Message: fmt.Sprintf("a %s webhook cannot be activated", w.Status)}
		}
		ok, err := s.verified(tx, w)
		if err != nil {
			return err
		}
		if !ok {
			return &ConflictError{Message: "webhook has not passed a test (HTTP 200) with its current configuration; test it first"}
		}
		w.Status, w.UpdatedAt, w.DisabledAt = StatusActive, s.Now(), nil
		if err := tx.Model(w).Select("status", "updated_at", "disabled_at").Updates(w).Error; err != nil {
			return err
		}
		released, err = releaseHeld(tx, w.ID, w.UpdatedAt)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("models: activate webhook %d: %w", id, err)
	}
	return w, released, nil
}

// DeactivateWebhook takes an asset out of service by hand; its pending
// deliveries are held until it is activated again.
func (s *Store) DeactivateWebhook(ctx context.Context, panelID, id int64) (*Webhook, error) {
	var w Webhook
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(&w, id).Error; err != nil {
			return notFound(err)
		}
		switch {
		case w.Status == StatusInactive:
			return nil
		case !w.Status.CanMoveTo(StatusInactive):
			return &ConflictError{Message: "webhook is untested and not in service; nothing to deactivate"}
		}
		w.Status, w.UpdatedAt = StatusInactive, s.Now()
		if err := tx.Model(&w).Select("status", "updated_at").Updates(&w).Error; err != nil {
			return err
		}
		return holdPending(tx, w.ID, w.UpdatedAt)
	})
	if err != nil {
		return nil, fmt.Errorf("models: deactivate webhook %d: %w", id, err)
	}
	return &w, nil
}

// AssetInfo is what a journey's webhook node needs of its asset.
type AssetInfo struct {
	ID          int64
	Label       string
	Status      WebhookStatus
	HashPII     bool
	BatchWaitMS int
	BatchSize   int
}

// Assets loads a panel's assets by id; ids of other panels are absent.
func (s *Store) Assets(ctx context.Context, q Querier, panelID int64, ids []int64) (map[int64]AssetInfo, error) {
	out := map[int64]AssetInfo{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id, label, status, hash_pii, batch_wait_ms, batch_size FROM webhooks
		WHERE panel_id = $1 AND id = ANY($2)`, panelID, ids)
	if err != nil {
		return nil, fmt.Errorf("models: assets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AssetInfo
		if err := rows.Scan(&a.ID, &a.Label, &a.Status, &a.HashPII, &a.BatchWaitMS, &a.BatchSize); err != nil {
			return nil, fmt.Errorf("models: assets: %w", err)
		}
		out[a.ID] = a
	}
	return out, rows.Err()
}
