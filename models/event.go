package models

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
)

// EventParts is how many partitions a panel's events are processed in.
// One worker processes a partition at a time, in order; events naming the
// same user the same way land in the same partition.
const EventParts = 4

// Event is an activity a panel sent through the ingest API.
type Event struct {
	ID         uuid.UUID
	PanelID    int64
	EventID    string
	Source     string
	Name       string
	ContactID  *int64
	Channel    string
	MsgID      string         `gorm:"column:msgid"`
	Properties map[string]any `gorm:"serializer:jsonexact"`
	// RawProperties, when set, is Properties as JSON text, stored as is.
	RawProperties json.RawMessage `gorm:"-"`
	// Raw is the event object as the sender wrote it (JSON ingest only),
	// kept until the event is processed: subscriptions may send it as is.
	Raw        json.RawMessage `gorm:"-"`
	OccurredAt time.Time
	ReceivedAt time.Time
	// Part is the partition the event is processed in.
	Part int16
	// User names the contact and UserAttributes are merged into it, until
	// the event is processed.
	User           *Identity      `gorm:"column:user_identity;serializer:json"`
	UserAttributes map[string]any `gorm:"serializer:jsonexact"`
	ProcessedAt    *time.Time
}

// identityJSON is how an Identity is stored with an unprocessed event.
type identityJSON struct {
	ExternalID string `json:"external_id,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// MaxEventName is the most bytes an event's name may have: the ingest API
// refuses a longer one, and journeys and subscriptions may not name one.
const MaxEventName = 200

// PartOf is the partition of events that name this user: by the identifier
// a contact is matched by first.
func PartOf(id Identity) int16 {
	h := fnv.New32a()
	switch {
	case id.ExternalID != "":
		h.Write([]byte("x:" + id.ExternalID))
	case id.Email != "":
		h.Write([]byte("e:" + id.Email))
	default:
		h.Write([]byte("p:" + id.Phone))
	}
	return int16(h.Sum32() % EventParts)
}

// InsertEvents stores events, of one panel or several, in one statement
// and reports, per event, whether it is new: a repeat of an event_id the
// panel sent before (or earlier in events) is not stored twice. Every event
// waits to be processed, those that name no user too: subscriptions
// deliver them.
func (s *Store) InsertEvents(ctx context.Context, events []Event) ([]bool, error) {
	if len(events) == 0 {
		return nil, nil
	}
	n := len(events)
	ids, eventIDs, sources, names := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	channels, msgids, props := make([]string, n), make([]string, n), make([]string, n)
	occurred, received := make([]time.Time, n), make([]time.Time, n)
	parts, users, attrs, panels := make([]int16, n), make([]*string, n), make([]*string, n), make([]int64, n)
	raws := make([]*string, n)
	for i := range events {
		e := &events[i]
		raw := e.RawProperties
		if len(raw) == 0 {
			var err error
			if raw, err = json.Marshal(e.Properties); err != nil {
				return nil, fmt.Errorf("models: insert events: %w", err)
			}
		}
		ids[i], eventIDs[i], sources[i], names[i] = e.ID.String(), e.EventID, e.Source, e.Name
		channels[i], msgids[i], props[i] = e.Channel, e.MsgID, string(raw)
		occurred[i], received[i], parts[i], panels[i] = e.OccurredAt, e.ReceivedAt, e.Part, e.PanelID
		raws[i] = nullable(string(e.Raw))
		if e.User != nil && !e.User.Empty() {
			u, _ := json.Marshal(identityJSON(*e.User))
			a, _ := json.Marshal(e.UserAttributes)
			users[i], attrs[i] = nullable(string(u)), nullable(string(a))
		}
	}
	rows, err := s.sql.QueryContext(ctx, `INSERT INTO events (id, panel_id, event_id, source, name, channel, msgid,
			properties, occurred_at, received_at, part, user_identity, user_attributes, raw)
		SELECT v.id::uuid, v.panel, v.event_id, v.source, v.name, v.channel, v.msgid, v.props::jsonb, v.occurred, v.received,
		       v.part, v.usr::jsonb, v.attrs::jsonb, v.raw
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		            $9::timestamptz[], $10::timestamptz[], $11::smallint[], $12::text[], $13::text[], $14::text[])
		     AS v(panel, id, event_id, source, name, channel, msgid, props, occurred, received, part, usr, attrs, raw)
		ON CONFLICT (panel_id, event_id) DO NOTHING
		RETURNING id`, panels, ids, eventIDs, sources, names, channels, msgids, props, occurred, received,
		parts, users, attrs, raws)
	if err != nil {
		return nil, fmt.Errorf("models: insert events: %w", err)
	}
	defer rows.Close()
	inserted := map[uuid.UUID]bool{}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("models: insert events: %w", err)
		}
		inserted[id] = true
	}
	out := make([]bool, n)
	for i := range events {
		out[i] = inserted[events[i].ID]
	}
	return out, rows.Err()
}

// ClaimEvents takes up to limit unprocessed events of one partition, oldest
// first, for the transaction q. Only one transaction works on a partition at
// a time: it holds an advisory lock on it until it ends; when another holds
// it, ClaimEvents returns locked and no events. That lock is all the claim
// takes: locking the rows too wrote every claimed event once more (about
// one WAL record per event) and kept out no one the lock does not.
func (s *Store) ClaimEvents(ctx context.Context, q Querier, panelID int64, part int16, limit int) (events []Event, locked bool, err error) {
	var got bool
	if err := q.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1::int, $2::int)`, int32(panelID), int32(part)+1_000_000).
		Scan(&got); err != nil {
		return nil, false, fmt.Errorf("models: lock events of panel %d part %d: %w", panelID, part, err)
	}
	if !got {
		return nil, true, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id, event_id, source, name, channel, msgid, properties, occurred_at, received_at,
			user_identity, user_attributes, raw
		FROM events WHERE panel_id = $1 AND part = $2 AND processed_at IS NULL
		ORDER BY id LIMIT $3`, panelID, part, limit)
	if err != nil {
		return nil, false, fmt.Errorf("models: claim events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e := Event{PanelID: panelID, Part: part}
		var props, user, attrs, raw []byte
		if err := rows.Scan(&e.ID, &e.EventID, &e.Source, &e.Name, &e.Channel, &e.MsgID, &props, &e.OccurredAt, &e.ReceivedAt,
			&user, &attrs, &raw); err != nil {
			return nil, false, fmt.Errorf("models: claim events: %w", err)
		}
		e.RawProperties = props // the exact numbers, for subscribed deliveries
		e.Raw = raw
		_ = DecodeExact(props, &e.Properties)
		if e.Properties == nil {
			e.Properties = map[string]any{}
		}
		var id identityJSON
		if json.Unmarshal(user, &id) == nil {
			u := Identity(id)
			e.User = &u
		}
		_ = DecodeExact(attrs, &e.UserAttributes)
		events = append(events, e)
	}
	return events, false, rows.Err()
}

// MarkProcessed records that events were processed, with the contacts they
// named, and drops what was kept only for processing.
func (s *Store) MarkProcessed(ctx context.Context, q Querier, ids []uuid.UUID, contactIDs []*int64) error {
	_, err := q.ExecContext(ctx, `UPDATE events e SET processed_at = $3, contact_id = v.contact, user_identity = NULL,
			user_attributes = NULL, raw = NULL
		FROM unnest($1::uuid[], $2::bigint[]) AS v(id, contact) WHERE e.id = v.id`, ids, contactIDs, s.Now())
	if err != nil {
		return fmt.Errorf("models: mark events processed: %w", err)
	}
	return nil
}

// Partition names one partition of a panel's events.
type Partition struct {
	PanelID int64
	Part    int16
}

// StaleParts lists the partitions holding events received more than age
// ago and not processed yet: their processing task was lost.
func (s *Store) StaleParts(ctx context.Context, age time.Duration) ([]Partition, error) {
	var out []Partition
	err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT panel_id, part FROM events
		WHERE processed_at IS NULL AND received_at < $1`, s.Now().Add(-age)).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: stale event partitions: %w", err)
	}
	return out, nil
}
