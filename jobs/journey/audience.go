package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/models"
)

// MemberInput names a contact (external_id, email or phone) and attributes
// to merge into it, as the admin API's contacts and list members and the
// UI's list forms and CSV import give them.
type MemberInput struct {
	ExternalID string             `json:"external_id"`
	Email      string             `json:"email"`
	Phone      string             `json:"phone"`
	Attributes models.ExactObject `json:"attributes"`
}

// Member checks in and returns the member it names: identifiers
// normalised, attribute keys upper-cased, and the identifiers as the
// EXTERNAL_ID, EMAIL and MOBILE attributes unless given. An input naming
// no one, or an e-mail address that is not one, is a
// *models.ValidationError whose field starts with prefix ("members[3].").
func (in MemberInput) Member(prefix string) (Member, error) {
	m := Member{
		User: models.Identity{ExternalID: strings.TrimSpace(in.ExternalID), Email: models.NormalizeEmail(in.Email),
			Phone: models.NormalizePhone(in.Phone)},
		Attributes: map[string]any{},
	}
	if m.User.Empty() {
		return m, &models.ValidationError{Field: prefix, Message: "name the contact by external_id, email or phone"}
	}
	if f := m.User.TooLong(); f != "" {
		return m, &models.ValidationError{Field: prefix + f, Message: fmt.Sprintf("is longer than %d bytes", models.MaxIdentifierBytes)}
	}
	if m.User.Email != "" && !models.LooksLikeEmail(m.User.Email) {
		return m, &models.ValidationError{Field: prefix + "email", Message: "is not an e-mail address"}
	}
	for k, v := range in.Attributes {
		if k = strings.ToUpper(strings.TrimSpace(k)); k != "" {
			m.Attributes[k] = v
		}
	}
	for key, v := range map[string]string{"EXTERNAL_ID": m.User.ExternalID, "EMAIL": m.User.Email, "MOBILE": m.User.Phone} {
		if _, set := m.Attributes[key]; !set && v != "" {
			m.Attributes[key] = v
		}
	}
	return m, nil
}

// CreateSegment checks a segment's name and filters (contact attributes
// only, at least one) and stores it, for the admin API and the UI alike;
// what is wrong is a *models.ValidationError.
func (e *Engine) CreateSegment(ctx context.Context, panelID int64, name string, filters []Filter) (*models.Segment, error) {
	name, err := models.AudienceName(name)
	if err != nil {
		return nil, err
	}
	if len(filters) == 0 {
		return nil, &models.ValidationError{Field: "filters", Message: "a segment needs at least one filter"}
	}
	if err := CheckFilters(filters); err != nil {
		return nil, &models.ValidationError{Field: "filters", Message: err.Error()}
	}
	raw, err := json.Marshal(filters)
	if err != nil {
		return nil, fmt.Errorf("journey: segment filters: %w", err)
	}
	return e.Store.CreateSegment(ctx, panelID, name, raw)
}

// Bounds of a page of a segment's members: the members are found by
// matching each contact's attributes (MatchAll), read segmentWindow at a
// time, and a page that found too few after segmentScan says where to go
// on.
const (
	segmentScan   = 5000
	segmentWindow = 500
)

// SegmentMembers finds a page of the segment's members among the contacts
// after id after, for the admin API and the UI alike. next is where the
// next page starts (0 at the end of the contacts): a page holds up to
// models.MembersPerPage members, or fewer when segmentScan contacts were
// read.
func (e *Engine) SegmentMembers(ctx context.Context, seg *models.Segment, after int64) (members []models.Contact, next int64, err error) {
	var fs []Filter
	if err := json.Unmarshal(seg.Filters, &fs); err != nil {
		return nil, 0, fmt.Errorf("journey: segment %d filters: %w", seg.ID, err)
	}
	for scanned := 0; scanned < segmentScan; {
		window, err := e.Store.ContactsAfter(ctx, seg.PanelID, after, segmentWindow)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range window {
			after = c.ID
			scanned++
			if MatchAll(fs, c.Attributes, nil) {
				members = append(members, c)
				if len(members) == models.MembersPerPage {
					return members, after, nil
				}
			}
		}
		if len(window) < segmentWindow {
			return members, 0, nil
		}
	}
	return members, after, nil
}
