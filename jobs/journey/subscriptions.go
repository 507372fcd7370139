package journey

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/jobs/payload"
	"github.com/heraldhq/herald/models"
)

// deliverSubscribed writes, for each event, a delivery to every asset of
// the panel that subscribes to it, in the transaction that processes the
// events: the outbox then holds them exactly when the events count as
// processed. Deliveries leave in event order. contactOf is the contact
// each event named (none for an anonymous one).
func (w *work) deliverSubscribed(ctx context.Context, events []models.Event, contactOf map[uuid.UUID]*int64) error {
	assets, err := w.e.Store.SubscribedAssets(ctx, w.q, w.panel.ID)
	if err != nil || len(assets) == 0 {
		return err
	}
	for i := range events {
		ev := &events[i]
		for _, a := range assets {
			if !Subscribed(a.Subscriptions, ev.Name, ev.Source, ev.Channel) {
				continue
			}
			id := models.NewID(w.fx.now)
			item, err := []byte(ev.Raw), error(nil)
			if !SendsRaw(&a, ev) {
				item, err = SubscriptionItem(ev, id, a.HashPII)
			}
			if err != nil {
				w.e.Log.Error("subscribed event cannot be encoded; skipped", "webhook_id", a.ID, "event_id", ev.EventID, "error", err)
				continue
			}
			w.fx.deliveries = append(w.fx.deliveries, models.Delivery{ID: id, PanelID: w.panel.ID, WebhookID: a.ID, Item: item,
				ContactID: contactOf[ev.ID], EventName: ev.Name})
			if a.Status == models.StatusActive {
				w.fx.flush[a.ID] = a.BatchWaitMS
			}
		}
	}
	return nil
}

// SendsRaw reports whether an asset receives the event exactly as the
// sender wrote it (README, "Event-type subscriptions"): with body_format
// json and batch_size 1 the body is the item itself, so the item is the
// sender's JSON object, byte for byte, when the event came as JSON and no
// hash_pii must change it. It carries no delivery_id then.
func SendsRaw(a *models.SubscribedAsset, ev *models.Event) bool {
	return a.BodyFormat == string(models.BodyJSON) && a.BatchSize == 1 && !a.HashPII && len(ev.Raw) > 0
}

// Subscribed reports whether any of an asset's subscriptions asks for an
// event of this name, source and channel.
func Subscribed(subs []models.Subscription, name, source, channel string) bool {
	for _, s := range subs {
		if s.Matches(name, source, channel) {
			return true
		}
	}
	return false
}

// SubscriptionItem is the batch item of a subscribed event: the event as
// it was ingested (README, "Event-type subscriptions"), its properties with
// their exact numbers, after delivery_id. With hashPII, personal data is
// hashed as in every item.
func SubscriptionItem(ev *models.Event, deliveryID uuid.UUID, hashPII bool) ([]byte, error) {
	props := map[string]any{}
	if len(ev.RawProperties) > 0 {
		if err := models.DecodeExact(ev.RawProperties, &props); err != nil {
			return nil, err
		}
	} else if ev.Properties != nil {
		props = ev.Properties
	}
	fields := map[string]any{
		"event": ev.Name, "event_id": ev.EventID, "source": ev.Source,
		"timestamp": ev.OccurredAt.UTC().Format(time.RFC3339Nano), "properties": props,
	}
	if ev.Channel != "" {
		fields["channel"] = ev.Channel
	}
	if ev.MsgID != "" {
		fields["msgid"] = ev.MsgID
	}
	if ev.User != nil && !ev.User.Empty() {
		user := map[string]any{}
		for k, v := range map[string]string{"external_id": ev.User.ExternalID, "email": ev.User.Email, "phone": ev.User.Phone} {
			if v != "" {
				user[k] = v
			}
		}
		fields["user"] = user
		if len(ev.UserAttributes) > 0 {
			fields["attributes"] = ev.UserAttributes
		}
	}
	if hashPII {
		fields = payload.HashPIIMap(fields) // a copy: the properties and attributes here are the event's own
	}
	return payload.EncodeItem(models.DeliveryID(deliveryID), fields)
}
