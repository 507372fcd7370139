package models

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
	_ "time/tzdata" // time zone names known wherever Herald runs

	"gorm.io/gorm/clause"
)

// Panel is a workspace. Its name is the top-level key of every payload.
type Panel struct {
	ID   int64
	Name string
	// IngestRateLimit overrides the default ingest requests per minute.
	IngestRateLimit *int
	// HealthSettings are the failure tracker's thresholds for the panel.
	HealthSettings json.RawMessage `gorm:"type:jsonb"`
	// TimeZone is the IANA name of the zone the web UI shows times in.
	TimeZone  string
	CreatedAt time.Time
}

// Location is the panel's time zone (UTC when unset or unknown).
func (p *Panel) Location() *time.Location {
	if loc, err := time.LoadLocation(p.TimeZone); err == nil && p.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// ZonedTime writes t for a person away from Herald's pages (e-mails,
// and the pages their links open): the date in words and the time in loc
// with the zone's abbreviation, and its name where that is not UTC
// ("6 Dec 2026 14:00 CET (Europe/Berlin)"), as an abbreviation alone can
// be ambiguous or a bare offset.
func ZonedTime(t time.Time, loc *time.Location) string {
	s := t.In(loc).Format("2 Jan 2006 15:04 MST")
	if name := loc.String(); name != "UTC" {
		s += " (" + name + ")"
	}
	return s
}

// CheckTimeZone accepts an IANA time zone name (Europe/Paris, UTC); anything
// else is a ValidationError on time_zone.
func CheckTimeZone(zone string) error {
	if zone == "" || zone == "Local" {
		return invalid("time_zone", "must be an IANA time zone name such as Europe/Paris or UTC")
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return invalid("time_zone", "%q is not a known IANA time zone (such as Europe/Paris or UTC)", zone)
	}
	return nil
}

// SetPanelTimeZone sets the panel's time zone, an IANA name
// (CheckTimeZone, else a ValidationError).
func (s *Store) SetPanelTimeZone(ctx context.Context, id int64, zone string) error {
	_, err := s.UpdatePanelSettings(ctx, id, nil, nil, &zone)
	return err
}

var panelNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ValidatePanelName checks a panel name before it reaches the database.
func ValidatePanelName(name string) error {
	if !panelNamePattern.MatchString(name) {
		return invalid("panel", "must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit")
	}
	return nil
}

// EnsurePanel returns the panel with this name, creating it when needed.
func (s *Store) EnsurePanel(ctx context.Context, name string) (*Panel, error) {
	if err := ValidatePanelName(name); err != nil {
		return nil, err
	}
	p := Panel{Name: name, HealthSettings: json.RawMessage(`{}`)}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.Assignments(map[string]any{"name": name}), // a no-op update so RETURNING yields the row
	}).Create(&p).Error
	if err != nil {
		return nil, fmt.Errorf("models: ensure panel %q: %w", name, err)
	}
	return &p, nil
}

// PanelByID loads one panel.
func (s *Store) PanelByID(ctx context.Context, id int64) (*Panel, error) {
	var p Panel
	if err := s.db.WithContext(ctx).First(&p, id).Error; err != nil {
		return nil, fmt.Errorf("models: panel %d: %w", id, notFound(err))
	}
	return &p, nil
}

// IngestLimit is a panel's ingest requests a minute: the deployment's
// limit, or the panel's own when that is lower. A panel may lower its
// limit, not raise it: a value stored above the deployment's (before it was
// lowered, or before this rule) counts as the deployment's.
func IngestLimit(deployment int, panel *int) int {
	if panel != nil && *panel < deployment {
		return *panel
	}
	return deployment
}

// UpdatePanelSettings sets the panel's ingest rate limit, failure-tracker
// thresholds and time zone (checked: CheckTimeZone) in one statement; nil
// leaves a setting as it is.
func (s *Store) UpdatePanelSettings(ctx context.Context, id int64, ingestRateLimit *int, health json.RawMessage, timeZone *string) (*Panel, error) {
	set := map[string]any{}
	if timeZone != nil {
		if err := CheckTimeZone(*timeZone); err != nil {
			return nil, err
		}
		set["time_zone"] = *timeZone
	}
	if ingestRateLimit != nil {
		set["ingest_rate_limit"] = *ingestRateLimit
	}
	if health != nil {
		set["health_settings"] = health
	}
	if len(set) > 0 {
		if err := s.db.WithContext(ctx).Model(&Panel{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return nil, fmt.Errorf("models: panel settings: %w", err)
		}
		s.forgetPanel(id)
	}
	return s.PanelByID(ctx, id)
}
