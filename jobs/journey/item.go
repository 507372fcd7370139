package journey

// Item is one event in a batch, in the payload format of the README ("The
// payload a receiver gets"). Field order here is the order receivers see.
type Item struct {
	DeliveryID    string         `json:"delivery_id"`
	Test          bool           `json:"test,omitempty"`
	WebhookName   string         `json:"webhook_name"`
	MsgID         string         `json:"msgid"`
	Channel       string         `json:"channel"`
	Event         string         `json:"event"`
	JourneyName   string         `json:"journey_name"`
	EventParams   map[string]any `json:"event_params"`
	CustomParams  map[string]any `json:"custom_params"`
	AttParams     map[string]any `json:"att_params"`
	PayloadParams map[string]any `json:"payload_params"`
	UDTParams     map[string]any `json:"udt_params,omitempty"`
}

// ItemFor builds the item the webhook node nodeID sends for a run in state
// st, exactly as a run passing through it would; false when there is no
// such webhook node. It lets the journey builder preview a node's item.
func (d *Definition) ItemFor(nodeID string, st *State, c *Contact, env *Env) (Item, bool) {
	n := d.Node(nodeID)
	if n == nil || n.Type != TypeWebhook {
		return Item{}, false
	}
	return d.item(n, st, c, env), true
}
