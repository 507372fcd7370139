package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// List is a static set of contacts; adding a contact can start journeys.
type List struct {
	ID        int64
	PanelID   int64
	Name      string
	CreatedAt time.Time
	Members   int64 `gorm:"->;-:migration"` // counted when listed
}

// Segment is a saved attribute filter; a contact that comes to match it
// can start journeys. Filters is the JSON list of package journey.
type Segment struct {
	ID        int64
	PanelID   int64
	Name      string
	Filters   json.RawMessage `gorm:"type:jsonb"`
	CreatedAt time.Time
}

// MembersPerPage is how many members a page of a list or segment shows,
// in the admin API and the UI alike.
const MembersPerPage = 50

// AudienceName checks the name of a list or segment: trimmed, 1 to 200
// bytes.
func AudienceName(name string) (string, error) {
	if name = strings.TrimSpace(name); name == "" || len(name) > 200 {
		return "", invalid("name", "is required, up to 200 bytes")
	}
	return name, nil
}

// CreateList stores a list; names (AudienceName) are unique per panel,
// ignoring case.
func (s *Store) CreateList(ctx context.Context, panelID int64, name string) (*List, error) {
	name, err := AudienceName(name)
	if err != nil {
		return nil, err
	}
	l := List{PanelID: panelID, Name: name, CreatedAt: s.Now()}
	if err := s.db.WithContext(ctx).Omit("Members").Create(&l).Error; err != nil {
		if uniqueViolation(err, "lists_panel_name") {
			return nil, &ConflictError{Field: "name", Message: "a list with this name already exists"}
		}
		return nil, fmt.Errorf("models: create list: %w", err)
	}
	return &l, nil
}

// ListLists lists a panel's lists with their member counts.
func (s *Store) ListLists(ctx context.Context, panelID int64) ([]List, error) {
	var out []List
	err := s.db.WithContext(ctx).Raw(`SELECT l.*, (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS members
		FROM lists l WHERE l.panel_id = $1 ORDER BY lower(l.name)`, panelID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: list lists: %w", err)
	}
	return out, nil
}

// ListByID loads one list of a panel.
func (s *Store) ListByID(ctx context.Context, panelID, id int64) (*List, error) {
	var l List
	if err := s.db.WithContext(ctx).Omit("Members").Where("panel_id = ?", panelID).Take(&l, id).Error; err != nil {
		return nil, fmt.Errorf("models: list %d: %w", id, notFound(err))
	}
	return &l, nil
}

// AddListMembers adds contacts to a list and returns those that were not
// members yet.
func (s *Store) AddListMembers(ctx context.Context, q Querier, listID int64, contactIDs []int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `INSERT INTO list_members (list_id, contact_id, added_at)
		SELECT $1, c, $3 FROM unnest($2::bigint[]) AS c ON CONFLICT DO NOTHING RETURNING contact_id`,
		listID, contactIDs, s.Now())
	if err != nil {
		return nil, fmt.Errorf("models: add list members: %w", err)
	}
	defer rows.Close()
	var added []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("models: add list members: %w", err)
		}
		added = append(added, id)
	}
	return added, rows.Err()
}

// CreateSegment stores a segment.
func (s *Store) CreateSegment(ctx context.Context, panelID int64, name string, filters json.RawMessage) (*Segment, error) {
	name, err := AudienceName(name)
	if err != nil {
		return nil, err
	}
	seg := Segment{PanelID: panelID, Name: name, Filters: filters, CreatedAt: s.Now()}
	if err := s.db.WithContext(ctx).Create(&seg).Error; err != nil {
		if uniqueViolation(err, "segments_panel_name") {
			return nil, &ConflictError{Field: "name", Message: "a segment with this name already exists"}
		}
		return nil, fmt.Errorf("models: create segment: %w", err)
	}
	return &seg, nil
}

// ListSegments lists a panel's segments.
func (s *Store) ListSegments(ctx context.Context, panelID int64) ([]Segment, error) {
	var out []Segment
	if err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Order("lower(name)").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list segments: %w", err)
	}
	return out, nil
}

// SegmentFilters loads the filters of a panel's segments by id.
func (s *Store) SegmentFilters(ctx context.Context, q Querier, panelID int64, ids []int64) (map[int64]json.RawMessage, error) {
	out := map[int64]json.RawMessage{}
	rows, err := q.QueryContext(ctx, `SELECT id, filters FROM segments WHERE panel_id = $1 AND id = ANY($2)`, panelID, ids)
	if err != nil {
		return nil, fmt.Errorf("models: segment filters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var f json.RawMessage
		if err := rows.Scan(&id, &f); err != nil {
			return nil, fmt.Errorf("models: segment filters: %w", err)
		}
		out[id] = f
	}
	return out, rows.Err()
}

// PanelOwns reports which of the ids of a kind ("lists", "segments",
// "webhooks") belong to the panel, read through q (publishing reads them
// in the transaction that locks the journey).
func (s *Store) PanelOwns(ctx context.Context, q Querier, panelID int64, table string, ids []int64) (map[int64]bool, error) {
	switch table {
	case "lists", "segments", "webhooks":
	default:
		return nil, fmt.Errorf("models: PanelOwns of %q", table)
	}
	// table is one of the three names above, never the caller's text.
	rows, err := q.QueryContext(ctx, `SELECT id FROM `+table+` WHERE panel_id = $1 AND id = ANY($2)`, panelID, ids)
	if err != nil {
		return nil, fmt.Errorf("models: %s of panel: %w", table, err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("models: %s of panel: %w", table, err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("models: %s of panel: %w", table, err)
	}
	return out, nil
}

// ListMembers pages through a list's members, latest added first.
func (s *Store) ListMembers(ctx context.Context, listID int64, offset, limit int) ([]Contact, error) {
	var out []Contact
	err := s.db.WithContext(ctx).Table("contacts c").Select("c.*").
		Joins("JOIN list_members m ON m.contact_id = c.id AND m.list_id = ?", listID).
		Order("m.added_at DESC, c.id DESC").Offset(offset).Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: members of list %d: %w", listID, err)
	}
	return out, nil
}

// RemoveListMember takes a contact of the list's panel off the list, for
// the admin API and the UI alike: a NotFoundError when the contact is not
// the panel's or not on the list. Journeys it entered by joining go on.
func (s *Store) RemoveListMember(ctx context.Context, l *List, contactID int64) error {
	if _, err := s.ContactByID(ctx, l.PanelID, contactID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return &NotFoundError{Message: "contact not found"}
		}
		return err
	}
	res := s.db.WithContext(ctx).Exec(`DELETE FROM list_members WHERE list_id = ? AND contact_id = ?`, l.ID, contactID)
	if res.Error != nil {
		return fmt.Errorf("models: remove list member: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return &NotFoundError{Message: "the contact is not on this list"}
	}
	return nil
}

// SegmentByID loads one segment of a panel.
func (s *Store) SegmentByID(ctx context.Context, panelID, id int64) (*Segment, error) {
	var seg Segment
	if err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Take(&seg, id).Error; err != nil {
		return nil, fmt.Errorf("models: segment %d: %w", id, notFound(err))
	}
	return &seg, nil
}

// ContactsAfter reads a panel's contacts in id order from after id, a
// window of a scan (a segment's members are found by matching each).
func (s *Store) ContactsAfter(ctx context.Context, panelID, after int64, limit int) ([]Contact, error) {
	var out []Contact
	err := s.db.WithContext(ctx).Where("panel_id = ? AND id > ?", panelID, after).Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: contacts: %w", err)
	}
	return out, nil
}

// ListMemberCount counts a list's members.
func (s *Store) ListMemberCount(ctx context.Context, listID int64) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM list_members WHERE list_id = ?`, listID).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("models: members of list %d: %w", listID, err)
	}
	return n, nil
}
