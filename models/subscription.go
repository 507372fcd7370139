package models

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Subscription subscribes a webhook asset to ingested events by name, and
// optionally by the source they came from and their channel: each event
// that matches is delivered to the asset without a journey.
type Subscription struct {
	Event   string `json:"event"`
	Source  string `json:"source,omitempty"`
	Channel string `json:"channel,omitempty"`
}

// EventChannels are the channels an event can come from (and an action
// node send on: the first six).
var EventChannels = []string{"email", "sms", "apn", "bpn", "whatsapp", "rcs", "web", "app"}

// SourcePattern is what the ingest API accepts as a source label.
var SourcePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Limits of an asset's subscriptions.
const (
	MaxSubscriptions = 100
)

// Matches reports whether an event of this name, source and channel is one
// the subscription asks for. Names and channels compare without case, as
// journeys compare them; the source, as the ingest URL gave it.
func (s Subscription) Matches(name, source, channel string) bool {
	return strings.EqualFold(s.Event, name) &&
		(s.Source == "" || s.Source == source) &&
		(s.Channel == "" || strings.EqualFold(s.Channel, channel))
}

// normalizeSubscriptions trims the subscriptions, lower-cases channels and
// checks them, naming the field at fault.
func normalizeSubscriptions(subs []Subscription) ([]Subscription, error) {
	if len(subs) == 0 {
		return nil, nil
	}
	if len(subs) > MaxSubscriptions {
		return nil, invalid("subscriptions", "at most %d subscriptions", MaxSubscriptions)
	}
	out := make([]Subscription, 0, len(subs))
	for i, s := range subs {
		field := fmt.Sprintf("subscriptions[%d]", i)
		s = Subscription{Event: strings.TrimSpace(s.Event), Source: strings.TrimSpace(s.Source),
			Channel: strings.ToLower(strings.TrimSpace(s.Channel))}
		switch {
		case s.Event == "":
			return nil, invalid(field+".event", "is required: the name of the events to deliver, such as NEW_VISIT")
		case len(s.Event) > MaxEventName:
			return nil, invalid(field+".event", "is longer than %d bytes", MaxEventName)
		case hasControl(s.Event):
			return nil, invalid(field+".event", "must not contain control characters")
		case s.Source != "" && !SourcePattern.MatchString(s.Source):
			return nil, invalid(field+".source", "must be 1-64 letters, digits, '_', '-' or '.', as in /v1/webhook/{source}")
		case s.Channel != "" && !slices.Contains(EventChannels, s.Channel):
			return nil, invalid(field+".channel", "must be one of %s", strings.Join(EventChannels, ", "))
		}
		for j, prev := range out {
			if strings.EqualFold(prev.Event, s.Event) && prev.Source == s.Source && prev.Channel == s.Channel {
				return nil, invalid(field, "repeats subscriptions[%d]", j)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// SubscribedAsset is an asset that subscribes to events, as the event
// processor needs it.
type SubscribedAsset struct {
	AssetInfo
	BodyFormat    string
	Subscriptions []Subscription
}

// SubscribedAssets loads a panel's assets that subscribe to events and may
// take deliveries (all but untested ones: an inactive or disabled asset
// holds them, as it holds a journey's).
func (s *Store) SubscribedAssets(ctx context.Context, q Querier, panelID int64) ([]SubscribedAsset, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, label, status, hash_pii, batch_wait_ms, batch_size, body_format, subscriptions FROM webhooks
		WHERE panel_id = $1 AND subscriptions <> '[]'::jsonb AND status <> $2 ORDER BY id`, panelID, StatusUntested)
	if err != nil {
		return nil, fmt.Errorf("models: subscribed assets: %w", err)
	}
	defer rows.Close()
	var out []SubscribedAsset
	for rows.Next() {
		var a SubscribedAsset
		var subs []byte
		if err := rows.Scan(&a.ID, &a.Label, &a.Status, &a.HashPII, &a.BatchWaitMS, &a.BatchSize, &a.BodyFormat, &subs); err != nil {
			return nil, fmt.Errorf("models: subscribed assets: %w", err)
		}
		if err := json.Unmarshal(subs, &a.Subscriptions); err != nil {
			return nil, fmt.Errorf("models: webhook %d subscriptions: %w", a.ID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RecentEventNames lists the names of the events a panel sent in the last
// day (up to limit, the most frequent first), for the UI to offer as
// subscriptions. It reads at most 20000 of the panel's newest events
// through the events_panel_recent index, so a busy table costs a bounded scan.
func (s *Store) RecentEventNames(ctx context.Context, panelID int64, limit int) ([]string, error) {
	out, err := s.textColumn(ctx, `SELECT name FROM (
			SELECT name FROM events WHERE panel_id = $1 AND id >= $2 ORDER BY id DESC LIMIT 20000) recent
		GROUP BY name ORDER BY count(*) DESC, name LIMIT $3`, panelID, minIDAt(s.Now().Add(-24*time.Hour)), limit)
	if err != nil {
		return nil, fmt.Errorf("models: recent event names: %w", err)
	}
	return out, nil
}
