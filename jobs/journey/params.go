package journey

import (
	"maps"
	"strings"
	"time"
)

// TS is the numeric timestamp of the payload format: yyMMddHHmmss.
func TS(t time.Time) int64 {
	t = t.UTC()
	return int64(t.Year()%100)*1e10 + int64(t.Month())*1e8 + int64(t.Day())*1e6 +
		int64(t.Hour())*1e4 + int64(t.Minute())*1e2 + int64(t.Second())
}

// TimestampLayout is how event_params.timestamp is written.
const TimestampLayout = "2006-01-02T15:04:05"

// item builds the batch item a webhook node sends: the event that last moved
// the run (for a timeout, the trigger: the cart that was abandoned), the
// parameters and attributes the node selected, and its static parameters.
// Selected keys are always present; unknown values are null.
func (d *Definition) item(n *Node, st *State, c *Contact, env *Env) Item {
	ev := st.Last
	if ev == nil {
		ev = &Event{At: env.Now} // a segment or list entry has no event
	}
	it := Item{
		WebhookName:   env.Labels[n.WebhookID],
		MsgID:         ev.MsgID,
		Channel:       channelOf(ev),
		Event:         ev.Name,
		JourneyName:   env.JourneyName,
		EventParams:   make(map[string]any, len(n.EventParams)),
		CustomParams:  map[string]any{},
		AttParams:     make(map[string]any, len(n.AttParams)),
		PayloadParams: map[string]any{},
	}
	if it.MsgID == "" && len(st.Sent) > 0 {
		// No message behind the event: the latest message the journey sent.
		last := st.Sent[len(st.Sent)-1]
		it.MsgID, it.Channel = last.MsgID, last.Channel
	}
	for _, p := range n.EventParams {
		it.EventParams[p] = eventParam(p, ev, st, c)
	}
	for _, a := range n.AttParams {
		it.AttParams[strings.ToUpper(a)] = c.Attributes[strings.ToUpper(a)]
	}
	maps.Copy(it.CustomParams, n.CustomParams)
	if len(n.UDTParams) > 0 {
		// Every named table is present; the engine fills in the rows.
		it.UDTParams = make(map[string]any, len(n.UDTParams))
		for _, table := range n.UDTParams {
			it.UDTParams[table] = []any{}
		}
	}
	if ev.Channel == "" {
		// A custom activity (web or app): its payload, such as line items.
		maps.Copy(it.PayloadParams, ev.Properties)
	}
	return it
}

func eventParam(p string, ev *Event, st *State, c *Contact) any {
	switch p {
	case "timestamp":
		return ev.At.UTC().Format(TimestampLayout)
	case "ts":
		return TS(ev.At)
	case "foreignkey":
		return c.Key
	case "msgid":
		return ev.MsgID
	case "channel":
		return channelOf(ev)
	case "event":
		return ev.Name
	case "email":
		if e, ok := ev.Properties["email"].(string); ok && e != "" {
			return e
		}
		return nilIfEmpty(c.Email)
	case "message_name":
		for _, s := range st.Sent {
			if s.MsgID == ev.MsgID {
				return s.MessageName
			}
		}
		if len(st.Sent) > 0 {
			return st.Sent[len(st.Sent)-1].MessageName
		}
		return nil
	}
	if v, ok := lookup(ev.Properties, p); ok {
		return v
	}
	return nil
}

// CustomActivity is the channel of an activity that came on no channel (a
// purchase, a cart update), as receivers of the replaced product read it.
const CustomActivity = "custom_activity"

// channelOf is the channel an item names for an event: its own, or
// custom_activity for an activity without one. A run that entered from a
// segment or list has no event, and so no channel.
func channelOf(ev *Event) string {
	if ev.Channel == "" && ev.Name != "" {
		return CustomActivity
	}
	return ev.Channel
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
