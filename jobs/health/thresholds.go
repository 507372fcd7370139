package health

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/models"
)

// ParseThresholds reads configured thresholds strictly (no unknown key)
// and checks them, for a webhook's health_settings and a panel's health
// setting alike, through the admin API and the UI's webhook form; it
// returns them as stored. A value that is not valid is a
// *models.ValidationError on field.
func ParseThresholds(field string, raw json.RawMessage) (json.RawMessage, error) {
	var th Thresholds
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&th); err != nil {
		return nil, &models.ValidationError{Field: field, Message: fmt.Sprintf("must be an object of degraded_failure_rate, "+
			"degraded_min_attempts, window, pause_after_failures, disable_after: %v", err)}
	}
	if err := th.Check(); err != nil {
		return nil, &models.ValidationError{Field: field, Message: err.Error()}
	}
	out, err := json.Marshal(th)
	if err != nil {
		return nil, fmt.Errorf("health: thresholds: %w", err)
	}
	return out, nil
}
