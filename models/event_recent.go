package models

import (
	"context"
	"fmt"
	"time"
)

// Bounds of what the UI's pickers read of a panel's recent events: the
// newest recentEventScan events of the last recentEventAge, through the
// events_panel_recent index.
const (
	recentEventAge  = 7 * 24 * time.Hour
	recentEventScan = 10_000
)

// RecentEventVocabulary lists what a panel's recent events were called
// and the names of their (top-level) properties, the most frequent first,
// up to limit of each: the builder offers them as it is typed in (issue 14).
// Only panelID's events are read.
func (s *Store) RecentEventVocabulary(ctx context.Context, panelID int64, limit int) (names, properties []string, err error) {
	since := minIDAt(s.Now().Add(-recentEventAge))
	names, err = s.textColumn(ctx, `SELECT name FROM (
			SELECT name FROM events WHERE panel_id = $1 AND id >= $2 ORDER BY id DESC LIMIT $3) recent
		GROUP BY name ORDER BY count(*) DESC, name LIMIT $4`, panelID, since, recentEventScan, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("models: recent event names: %w", err)
	}
	properties, err = s.textColumn(ctx, `SELECT k FROM (
			SELECT properties FROM events WHERE panel_id = $1 AND id >= $2 ORDER BY id DESC LIMIT $3) recent,
			jsonb_object_keys(CASE WHEN jsonb_typeof(properties) = 'object' THEN properties ELSE '{}' END) k
		GROUP BY k ORDER BY count(*) DESC, k LIMIT $4`, panelID, since, recentEventScan, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("models: recent event properties: %w", err)
	}
	return names, properties, nil
}

// textColumn runs a query of one text column.
func (s *Store) textColumn(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
