package journey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/jobs/payload"
	"github.com/heraldhq/herald/models"
)

// encodeJourneyItem finishes a webhook node's item as it is written to the
// outbox: its delivery id, then PII hashing when the asset asks for it.
func encodeJourneyItem(it *Item, id uuid.UUID, hashPII bool) ([]byte, error) {
	it.DeliveryID = models.DeliveryID(id)
	out := *it // hashed, the item sent is a copy: its maps share values with the event, the contact and the journey
	if hashPII {
		out.EventParams, out.AttParams, out.CustomParams = payload.HashPIIMap(it.EventParams), payload.HashPIIMap(it.AttParams),
			payload.HashPIIMap(it.CustomParams)
		out.PayloadParams, out.UDTParams = payload.HashPIIMap(it.PayloadParams), payload.HashPIIMap(it.UDTParams)
	}
	return payload.MarshalPlain(out)
}

// Sample data of a preview: a contact with the usual attributes and the
// event that started its run.
var (
	previewContact = Contact{ID: 1, Key: "test.user@example.com", Email: "test.user@example.com",
		Attributes: map[string]any{"EMAIL": "test.user@example.com", "FIRSTNAME": "Test", "LASTNAME": "User",
			"CITY": "Pune", "COUNTRY": "India", "MOBILE": "+919800000000", "EXTERNAL_ID": "cust-1001"}}
	previewProperties = map[string]any{"ip_addr": "106.51.148.72", "user_agent": "Mozilla/5.0 (Macintosh)",
		"email": "test.user@example.com"}
)

// PreviewEvent says which event a run carries when it reaches node
// nodeID: the awaited event of the last wait whose "happened" exit it took
// on the way (wait is that step), or its trigger (wait is nil). It follows
// the first path from the trigger, a happened exit before a timeout, since
// that is the one the preview shows; a timeout exit leaves the event as
// it was.
func PreviewEvent(def *Definition, nodeID string) (wait *Node) {
	onPath := map[string]bool{}
	var walk func(id string, last *Node) (*Node, bool)
	walk = func(id string, last *Node) (*Node, bool) {
		if id == nodeID {
			return last, true
		}
		n := def.Node(id)
		if id == "" || n == nil || onPath[id] {
			return nil, false
		}
		onPath[id] = true
		defer delete(onPath, id)
		if n.Type == TypeWait {
			if w, ok := walk(n.Happened, n); ok {
				return w, true
			}
			return walk(n.Timeout, last)
		}
		return walk(n.Next, last)
	}
	t := def.Trigger()
	if t == nil {
		return nil
	}
	w, _ := walk(t.Next, nil)
	return w
}

// PreviewBatch is the batch the webhook node nodeID of a journey would
// send for a sample contact, built by the engine's own code: the run
// enters on a sample of the trigger's event, the actions before have sent
// their messages, the event the node sends is the one a run carries there
// (PreviewEvent: the awaited one after a wait's "happened" exit), and the
// item is finished as the outbox row would be (delivery id, PII hashing),
// then wrapped under the panel's key. It is indented for reading.
func PreviewBatch(panel, journeyName string, def *Definition, nodeID string, asset models.AssetInfo, now time.Time) ([]byte, error) {
	// Copies of the samples, so hashing the preview's PII never touches them.
	ev := &Event{ID: "evt_preview", Name: "open", Channel: "email", MsgID: "546", Properties: maps.Clone(previewProperties), At: now}
	contact := previewContact
	contact.Attributes = maps.Clone(previewContact.Attributes)
	it, err := sampleItem(journeyName, def, nodeID, asset, ev, &contact, now)
	if err != nil {
		return nil, fmt.Errorf("jobs: preview: %w", err)
	}
	item, err := encodeJourneyItem(it, models.NewID(now), asset.HashPII)
	if err != nil {
		return nil, fmt.Errorf("jobs: preview: %w", err)
	}
	body, err := payload.MarshalPlain(map[string][]json.RawMessage{panel: {item}})
	if err != nil {
		return nil, fmt.Errorf("jobs: preview: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		return nil, fmt.Errorf("jobs: preview: %w", err)
	}
	return out.Bytes(), nil
}

// sampleItem is the item of webhook node nodeID for a run of contact that
// entered on ev (renamed for the trigger's event): the actions before have
// sent their messages, and the event the node sends is the one a run
// carries there (PreviewEvent).
func sampleItem(journeyName string, def *Definition, nodeID string, asset models.AssetInfo, ev *Event, contact *Contact, now time.Time) (*Item, error) {
	if t := def.Trigger(); t != nil && t.Event != "" {
		ev.Name, ev.Channel = t.Event, t.Channel
	}
	st := &State{Trigger: ev, Last: ev}
	if w := PreviewEvent(def, nodeID); w != nil && w.Event != "" {
		awaited := *ev
		awaited.ID, awaited.Name, awaited.Properties = ev.ID+"_awaited", w.Event, maps.Clone(ev.Properties)
		if w.Channel != "" {
			awaited.Channel = w.Channel
		}
		st.Last = &awaited
	}
	for _, n := range def.Nodes {
		if n.Type == TypeAction {
			st.Sent = append(st.Sent, Sent{Node: n.ID, MsgID: models.NewULID(now).String(), Channel: n.Channel, MessageName: n.MessageName})
		}
	}
	env := &Env{JourneyName: journeyName, Labels: map[int64]string{asset.ID: asset.Label}, Now: now}
	it, ok := def.ItemFor(nodeID, st, contact, env)
	if !ok {
		return nil, fmt.Errorf("%q is not a webhook step", nodeID)
	}
	return &it, nil
}

// TestItem is the item the webhook node nodeID would send for a real
// contact, marked "test": true, for the builder's test-send: the contact's
// attributes and data-table rows (data, by table) as stored, and its
// latest event as the trigger's (properties as received; nil: none yet).
// It is encoded as the outbox row would be, PII hashed when the asset
// asks, but never stored: no run moves and no journey stat counts it.
func TestItem(journeyName string, def *Definition, nodeID string, asset models.AssetInfo, c *models.Contact,
	latest *models.Event, data map[string]json.RawMessage, now time.Time) ([]byte, error) {
	ev := &Event{ID: "evt_test", Properties: map[string]any{}, At: now}
	if latest != nil {
		ev = EventOf(latest)
		ev.Properties = maps.Clone(ev.Properties)
	}
	contact := toJourneyContact(c)
	contact.Attributes = maps.Clone(contact.Attributes)
	it, err := sampleItem(journeyName, def, nodeID, asset, ev, contact, now)
	if err != nil {
		return nil, fmt.Errorf("jobs: test item: %w", err)
	}
	it.Test = true
	if len(it.UDTParams) > 0 {
		it = withUDT(*it, data)
	}
	item, err := encodeJourneyItem(it, models.NewID(now), asset.HashPII)
	if err != nil {
		return nil, fmt.Errorf("jobs: test item: %w", err)
	}
	return item, nil
}
