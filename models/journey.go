package models

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// JourneyStatus is where a journey stands.
type JourneyStatus string

// Journey statuses.
const (
	// JourneyDraft is being built; nothing enters it.
	JourneyDraft JourneyStatus = "draft"
	// JourneyLive takes entries and moves runs.
	JourneyLive JourneyStatus = "live"
	// JourneyPaused takes no entries and holds its runs where they are.
	JourneyPaused JourneyStatus = "paused"
	// JourneyStopped has ended all its runs, for good.
	JourneyStopped JourneyStatus = "stopped"
)

// journeyMoves lists, for each status, the statuses a journey may come to
// it from. Nothing goes back to draft, and nothing leaves stopped.
var journeyMoves = map[JourneyStatus][]JourneyStatus{
	JourneyLive:    {JourneyDraft, JourneyPaused}, // publish, resume
	JourneyPaused:  {JourneyLive},                 // pause
	JourneyStopped: {JourneyDraft, JourneyLive, JourneyPaused},
}

// CanMoveTo reports whether a journey of status s may take status to. A
// status may always stay as it is (publishing a live journey again, say).
func (s JourneyStatus) CanMoveTo(to JourneyStatus) bool {
	return s == to || slices.Contains(journeyMoves[to], s)
}

// Journey is a stored journey. Definition is its graph as JSON (package
// jobs/journey reads it).
type Journey struct {
	ID          int64
	PanelID     int64
	Name        string
	Status      JourneyStatus
	Definition  json.RawMessage `gorm:"type:jsonb"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt *time.Time
	// ArchivedAt hides a stopped or paused journey from the list.
	ArchivedAt *time.Time
}

var journeyNameTaken = &ConflictError{Field: "name", Message: "a journey with this name already exists"}

// CreateJourney stores a new draft.
func (s *Store) CreateJourney(ctx context.Context, panelID int64, name string, def json.RawMessage) (*Journey, error) {
	if err := definitionNumbers(def); err != nil {
		return nil, err
	}
	now := s.Now()
	j := Journey{PanelID: panelID, Name: name, Status: JourneyDraft, Definition: def, CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&j).Error; err != nil {
		if uniqueViolation(err, "journeys_panel_name") {
			return nil, journeyNameTaken
		}
		return nil, fmt.Errorf("models: create journey: %w", err)
	}
	return &j, nil
}

// definitionNumbers refuses a definition whose numbers jsonb would write
// out far longer than they are (CheckNumbers): 3,000 filter values of
// 1e308, 18 KB sent, read back as 933 KB on every load of the journey.
func definitionNumbers(def json.RawMessage) error {
	var v any
	if DecodeExact(def, &v) != nil {
		return nil // not JSON: the insert says so
	}
	if bad := CheckNumbers(v, len(def)); bad != nil {
		return &ValidationError{Field: bad.Path, Message: strings.TrimPrefix(bad.Error(), bad.Path+": ")}
	}
	return nil
}

// Journey loads one journey of a panel.
func (s *Store) Journey(ctx context.Context, panelID, id int64) (*Journey, error) {
	var j Journey
	if err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Take(&j, id).Error; err != nil {
		return nil, fmt.Errorf("models: journey %d: %w", id, notFound(err))
	}
	return &j, nil
}

// JourneyShelf picks journeys by whether they are archived.
type JourneyShelf int

// The journeys a list shows.
const (
	// JourneysShown are those not archived: the journey list's default.
	JourneysShown JourneyShelf = iota
	// JourneysArchived are the archived ones only.
	JourneysArchived
	// JourneysAll are both.
	JourneysAll
)

// ListJourneys lists a panel's journeys of a shelf by name.
func (s *Store) ListJourneys(ctx context.Context, panelID int64, shelf JourneyShelf) ([]Journey, error) {
	var js []Journey
	q := s.db.WithContext(ctx).Where("panel_id = ?", panelID)
	switch shelf {
	case JourneysShown:
		q = q.Where("archived_at IS NULL")
	case JourneysArchived:
		q = q.Where("archived_at IS NOT NULL")
	case JourneysAll:
	}
	if err := q.Order("lower(name), id").Find(&js).Error; err != nil {
		return nil, fmt.Errorf("models: list journeys: %w", err)
	}
	return js, nil
}

// UpdateJourney replaces the graph of a draft or paused journey. A live
// journey must be paused first, so no run moves while it changes.
func (s *Store) UpdateJourney(ctx context.Context, panelID, id int64, name string, def json.RawMessage) (*Journey, error) {
	if err := definitionNumbers(def); err != nil {
		return nil, err
	}
	var j Journey
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(&j, id).Error; err != nil {
			return notFound(err)
		}
		if j.Status != JourneyDraft && j.Status != JourneyPaused {
			return &ConflictError{Message: fmt.Sprintf("a %s journey cannot be edited; pause it first", j.Status)}
		}
		j.Name, j.Definition, j.UpdatedAt = name, def, s.Now()
		return tx.Model(&j).Select("name", "definition", "updated_at").Updates(&j).Error
	})
	switch {
	case uniqueViolation(err, "journeys_panel_name"):
		return nil, journeyNameTaken
	case err != nil:
		return nil, fmt.Errorf("models: update journey %d: %w", id, err)
	}
	return &j, nil
}

// SetJourneyStatus moves a journey between statuses, checking the move is
// one the life cycle allows: draft|paused → live, live → paused,
// anything but stopped → stopped. check runs inside the transaction with
// the locked journey and may refuse: publishing validates the graph there,
// reading the assets and lists it names through q, the transaction's own
// connection, so that what it checks is read after the journey is locked.
func (s *Store) SetJourneyStatus(ctx context.Context, panelID, id int64, to JourneyStatus, check func(q Querier, j *Journey) error) (*Journey, error) {
	var j Journey
	err := s.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("panel_id = ?", panelID).Take(&j, id).Error; err != nil {
			return notFound(err)
		}
		if !j.Status.CanMoveTo(to) {
			return &ConflictError{Message: fmt.Sprintf("a %s journey cannot become %s", j.Status, to)}
		}
		if check != nil {
			if err := check(txQuerier(tx), &j); err != nil {
				return err
			}
		}
		now := s.Now()
		if to == JourneyLive && j.Status != JourneyLive {
			j.PublishedAt = &now
		}
		if to == JourneyLive {
			j.ArchivedAt = nil // a journey that takes entries is on the list
		}
		j.Status, j.UpdatedAt = to, now
		if err := tx.Model(&j).Select("status", "updated_at", "published_at", "archived_at").Updates(&j).Error; err != nil {
			return err
		}
		if to == JourneyStopped {
			return tx.Exec(`UPDATE journey_runs SET status = 'stopped', end_reason = 'the journey was stopped',
				ended_at = $1, updated_at = $2 WHERE journey_id = $3 AND status = 'waiting'`, now, now, j.ID).Error
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("models: journey %d to %s: %w", id, to, err)
	}
	return &j, nil
}

// LiveJourneysLocked counts a panel's live journeys, for a publish about
// to add one: it locks the panel's row first (FOR NO KEY UPDATE, which
// leaves the panel's other writers alone), so concurrent publishes in the
// panel count one after the other and cannot pass a cap together.
func (s *Store) LiveJourneysLocked(ctx context.Context, q Querier, panelID int64) (int, error) {
	// Two statements: the count's snapshot is taken once the lock is held,
	// so it sees the live journey a publish it waited for committed.
	if _, err := q.ExecContext(ctx, `SELECT FROM panels WHERE id = $1 FOR NO KEY UPDATE`, panelID); err != nil {
		return 0, fmt.Errorf("models: lock panel %d: %w", panelID, err)
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM journeys WHERE panel_id = $1 AND status = 'live'`, panelID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("models: live journeys of panel %d: %w", panelID, err)
	}
	return n, nil
}

// JourneyVersion names a version of a journey: any change moves updated_at.
type JourneyVersion struct {
	ID        int64
	UpdatedAt time.Time
}

// LiveVersions lists a panel's live journeys without their definitions,
// so a cache of them can tell whether it is current.
func (s *Store) LiveVersions(ctx context.Context, q Querier, panelID int64) ([]JourneyVersion, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, updated_at FROM journeys WHERE panel_id = $1 AND status = 'live' ORDER BY id`, panelID)
	if err != nil {
		return nil, fmt.Errorf("models: live journeys: %w", err)
	}
	defer rows.Close()
	var out []JourneyVersion
	for rows.Next() {
		var v JourneyVersion
		if err := rows.Scan(&v.ID, &v.UpdatedAt); err != nil {
			return nil, fmt.Errorf("models: live journeys: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// LiveJourneys loads a panel's live journeys, for the ingest path.
func (s *Store) LiveJourneys(ctx context.Context, q Querier, panelID int64) ([]Journey, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, panel_id, name, status, definition, updated_at FROM journeys
		WHERE panel_id = $1 AND status = 'live' ORDER BY id`, panelID)
	if err != nil {
		return nil, fmt.Errorf("models: live journeys: %w", err)
	}
	defer rows.Close()
	var out []Journey
	for rows.Next() {
		var j Journey
		if err := rows.Scan(&j.ID, &j.PanelID, &j.Name, &j.Status, &j.Definition, &j.UpdatedAt); err != nil {
			return nil, fmt.Errorf("models: live journeys: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// JourneysWithRuns lists a panel's journeys by name (ListJourneys) and
// counts their runs by status (JourneyCounts), for the admin API's list and
// the UI's alike; shelf picks archived journeys or not.
func (s *Store) JourneysWithRuns(ctx context.Context, panelID int64, shelf JourneyShelf) ([]Journey, map[int64]map[string]int64, error) {
	js, err := s.ListJourneys(ctx, panelID, shelf)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(js))
	for i := range js {
		ids[i] = js[i].ID
	}
	counts, err := s.JourneyCounts(ctx, ids)
	return js, counts, err
}

// JourneyCounts counts a journey's runs by status.
func (s *Store) JourneyCounts(ctx context.Context, journeyIDs []int64) (map[int64]map[string]int64, error) {
	out := map[int64]map[string]int64{}
	if len(journeyIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		JourneyID int64
		Status    string
		N         int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT journey_id, status, count(*) AS n FROM journey_runs
		WHERE journey_id = ANY($1) GROUP BY journey_id, status`, journeyIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: journey counts: %w", err)
	}
	for _, r := range rows {
		if out[r.JourneyID] == nil {
			out[r.JourneyID] = map[string]int64{}
		}
		out[r.JourneyID][r.Status] = r.N
	}
	return out, nil
}
