package journey

import (
	"strings"
	"time"
)

// Event is an activity as a run sees it.
type Event struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Channel    string         `json:"channel,omitempty"`
	MsgID      string         `json:"msgid,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	At         time.Time      `json:"at"`
}

// Contact is whom a run is about.
type Contact struct {
	ID int64
	// Key is the foreignkey of the payload: the contact's external id,
	// else e-mail, else phone.
	Key        string
	Email      string
	Attributes map[string]any
}

// State is what a run remembers between steps; it is stored with the run.
type State struct {
	Trigger *Event `json:"trigger,omitempty"`
	// Last is the event that last moved the run: the trigger, or the
	// awaited event that came in time.
	Last *Event `json:"last,omitempty"`
	// Sent are the messages action nodes recorded, oldest first.
	Sent []Sent `json:"sent,omitempty"`
}

// Sent is a message an action node recorded.
type Sent struct {
	Node        string `json:"node"`
	MsgID       string `json:"msgid"`
	Channel     string `json:"channel"`
	MessageName string `json:"message_name"`
}

// Env is what a run needs from outside.
type Env struct {
	JourneyName string
	// Labels names the webhook assets (webhook_name of the item).
	Labels map[int64]string
	// NewMsgID makes the message id an action node records.
	NewMsgID func() string
	Now      time.Time
}

// Step is where a run got to and what it did on the way.
type Step struct {
	// Node is the wait node it waits at, or the node where it ended.
	Node      string
	Waiting   bool
	WaitEvent string
	WaitUntil time.Time
	// Reason says why a run ended somewhere other than a stop node.
	Reason string
	// Fires are the webhook nodes passed, in order, with their items
	// (delivery_id is the engine's to set).
	Fires []Fire
	// Sent are the messages recorded on the way.
	Sent []Sent
	// AwaitsOutcome: the run waits at webhook node Node for the delivery
	// of the last Fire to be delivered or failed (AfterDelivery).
	AwaitsOutcome bool
	// Saved are the attributes a webhook node's save rules took from its
	// response (AfterDelivery), for the engine to write to the contact;
	// SaveNote says why some could not be.
	Saved    map[string]any
	SaveNote string
	// Passes are the nodes the step went through, in order, each with the
	// exit it left by: what a journey's per-step counts add up.
	Passes []Pass
}

// Fire is a webhook node a run passed through.
type Fire struct {
	WebhookID int64
	Item      Item
	// Awaited: the run waits at the node for this delivery's outcome;
	// KeepResponse: the node saves fields of its response.
	Awaited      bool
	KeepResponse bool
	// UDTTables are the contact's data tables whose rows the engine puts
	// in the item's udt_params (each [] here, until it loads them).
	UDTTables []string
	// Node is the webhook node, so its deliveries count for it.
	Node string
}

// Exit names, as the journey stats count them.
const (
	ExitNext     = "next"
	ExitHappened = "happened"
	ExitTimeout  = "timeout"
	// ExitDelivered and ExitFailed are a webhook node's outcome exits
	// (its delivered and failed fields).
	ExitDelivered = "delivered"
	ExitFailed    = "failed"
)

// Pass is one node a run went through. Entered says the run arrived at
// the node in this step (a wait it leaves was entered in an earlier
// step); Exit is the way it left, empty when it stays (a wait, a stop, a
// node where it ended).
type Pass struct {
	Node    string
	Entered bool
	Exit    string
}

// maxSteps bounds one walk. Publishing refuses loops without a wait, so
// this only guards against a definition edited behind a live run's back.
const maxSteps = 1000

// StartsOn reports whether an event starts this journey for a contact:
// the trigger names the event (and channel), and the filters pass.
func (d *Definition) StartsOn(ev *Event, c *Contact) bool {
	return d.entryCheck(ev, c).kind == passed
}

// entryKind is the outcome of checking an event against a trigger.
type entryKind int

const (
	passed entryKind = iota
	notAnEventTrigger
	wrongEvent
	wrongChannel
	filterFailed
)

// entryResult is what entryCheck found; filter is the first filter that
// failed. It is a plain value so that StartsOn, run for every event and
// live journey, builds no text.
type entryResult struct {
	kind   entryKind
	filter int
}

func (d *Definition) entryCheck(ev *Event, c *Contact) entryResult {
	t := d.Trigger()
	switch {
	case t == nil || t.Event == "":
		return entryResult{kind: notAnEventTrigger}
	case !strings.EqualFold(t.Event, ev.Name):
		return entryResult{kind: wrongEvent}
	case t.Channel != "" && !strings.EqualFold(t.Channel, ev.Channel):
		return entryResult{kind: wrongChannel}
	}
	for i, f := range t.Filters {
		if !f.match(c.Attributes, ev.Properties) {
			return entryResult{kind: filterFailed, filter: i}
		}
	}
	return entryResult{kind: passed}
}

// Enter starts a run: from the trigger (ev is the trigger event; nil for a
// segment or list entry) on to the first wait or the end.
func (d *Definition) Enter(st *State, ev *Event, c *Contact, env *Env) Step {
	st.Trigger, st.Last = ev, ev
	t := d.Trigger()
	step := d.walk(st, t.Next, c, env)
	step.Passes = append([]Pass{{Node: t.ID, Entered: true, Exit: ExitNext}}, step.Passes...)
	return step
}

// Awaits reports whether ev is what the run waiting at node wait waits for:
// the event name, the channel when set, the filters on its properties (the
// click on this link), and, with of_node, the message that node sent (an
// action node's message, or the trigger event's message: the click on the
// e-mail whose open started the run).
func (d *Definition) Awaits(wait string, st *State, ev *Event) bool {
	n := d.Node(wait)
	if n == nil || n.Type != TypeWait || !strings.EqualFold(n.Event, ev.Name) {
		return false
	}
	if n.Channel != "" && !strings.EqualFold(n.Channel, ev.Channel) {
		return false
	}
	if !MatchAll(n.Filters, nil, ev.Properties) {
		return false
	}
	if n.OfNode != "" {
		if t := d.Trigger(); t != nil && t.ID == n.OfNode {
			return st.Trigger != nil && st.Trigger.MsgID != "" && st.Trigger.MsgID == ev.MsgID
		}
		for _, s := range st.Sent {
			if s.Node == n.OfNode {
				return s.MsgID == ev.MsgID
			}
		}
		return false
	}
	return true
}

// Resume moves a run on from the wait node it waits at: along "happened"
// with the awaited event ev, or along "timeout" when ev is nil.
func (d *Definition) Resume(st *State, wait string, ev *Event, c *Contact, env *Env) Step {
	n := d.Node(wait)
	if n == nil || n.Type != TypeWait {
		return Step{Node: wait, Reason: "the journey no longer has the node this run waited at"}
	}
	exit, to := ExitTimeout, n.Timeout
	if ev != nil {
		st.Last = ev
		exit, to = ExitHappened, n.Happened
	}
	step := d.walk(st, to, c, env)
	step.Passes = append([]Pass{{Node: n.ID, Exit: exit}}, step.Passes...)
	return step
}

func (d *Definition) walk(st *State, id string, c *Contact, env *Env) Step {
	var step Step
	for range maxSteps {
		n := d.Node(id)
		if n == nil {
			step.Node, step.Reason = id, "the journey has no node "+id
			return step
		}
		pass := Pass{Node: n.ID, Entered: true}
		if n.Type == TypeAction || n.Type == TypeWebhook && !n.AwaitsOutcome() {
			// A webhook node that waits for its delivery is left later,
			// by its outcome (AfterDelivery).
			pass.Exit = ExitNext
		}
		step.Passes = append(step.Passes, pass)
		switch n.Type {
		case TypeAction:
			s := Sent{Node: n.ID, MsgID: env.NewMsgID(), Channel: n.Channel, MessageName: n.MessageName}
			st.Sent = append(st.Sent, s)
			step.Sent = append(step.Sent, s)
			id = n.Next
		case TypeWebhook:
			step.Fires = append(step.Fires, Fire{WebhookID: n.WebhookID, Node: n.ID, Item: d.item(n, st, c, env),
				Awaited: n.AwaitsOutcome(), KeepResponse: len(n.Save) > 0, UDTTables: n.UDTParams})
			if n.AwaitsOutcome() {
				step.Node, step.AwaitsOutcome = n.ID, true
				return step
			}
			id = n.Next
		case TypeWait:
			step.Node, step.Waiting = n.ID, true
			step.WaitEvent = strings.ToLower(n.Event)
			step.WaitUntil = env.Now.Add(n.WaitDuration())
			return step
		case TypeStop:
			step.Node = n.ID
			return step
		default:
			step.Node, step.Reason = n.ID, "a run cannot pass through a "+n.Type+" node"
			return step
		}
	}
	step.Node, step.Reason = id, "the run took more steps than a journey may"
	return step
}
