// Package journey runs customer journeys. Its pure logic is the graph a
// marketer builds (definition.go), its validation (validate.go), the
// filters of triggers (filter.go), the steps of a run (run.go) and the
// batch item a webhook node sends (item.go, params.go); it does no I/O.
// The Engine around it does: it stores ingested events (engine.go, written
// in groups by insert_group.go) and processes them in the journey:ingest
// task, starts runs on contact and list changes (engine_entries.go), ends
// waits in the journey:timer task (journey_timer.go), puts journeys live
// once their graph passes the publish check (publish.go, for the admin API
// and the UI alike) and previews a webhook node's batch (preview.go). Deliveries it decides go to the
// outbox for package delivery; timers and flushes go through package queue.
package journey

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// Node types.
const (
	TypeTrigger = "trigger"
	TypeAction  = "action"
	TypeWait    = "wait_for_event"
	TypeWebhook = "webhook"
	TypeStop    = "stop"
)

// Channels a message can go out on (action nodes) and events can come from:
// the list subscriptions check too, kept in models, which cannot import
// this package.
var Channels = models.EventChannels

// Definition is a journey as the API takes it (the format in the README's "Journeys").
type Definition struct {
	Name    string `json:"name"`
	Reentry string `json:"reentry,omitempty"`
	Nodes   []Node `json:"nodes"`
}

// Node is one step. Which fields apply depends on Type.
type Node struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Next string `json:"next,omitempty"`

	// trigger: an event (optionally on a channel), a segment or a list,
	// narrowed by filters. wait_for_event: the awaited event and channel,
	// narrowed by filters on its properties.
	Event   string   `json:"event,omitempty"`
	Channel string   `json:"channel,omitempty"`
	Segment int64    `json:"segment,omitempty"`
	List    int64    `json:"list,omitempty"`
	Filters []Filter `json:"filters,omitempty"`

	// action: the message sent, recorded with a msgid.
	MessageName string `json:"message_name,omitempty"`

	// wait_for_event: how long to wait, which message's events count
	// (of_node: the action node that sent it), and the two exits.
	Within   string `json:"within,omitempty"`
	OfNode   string `json:"of_node,omitempty"`
	Happened string `json:"happened,omitempty"`
	Timeout  string `json:"timeout,omitempty"`

	// webhook: the asset and what the batch item carries.
	WebhookID    int64          `json:"webhook_id,omitempty"`
	EventParams  []string       `json:"event_params,omitempty"`
	AttParams    []string       `json:"att_params,omitempty"`
	CustomParams map[string]any `json:"custom_params,omitempty"`
	// webhook: with delivered, failed or save set, the run waits at the
	// node until its delivery is delivered (exit delivered) or failed for
	// good (exit failed); an exit not set is next. save copies fields of
	// the JSON response into the contact's attributes (outcome.go).
	Delivered string     `json:"delivered,omitempty"`
	Failed    string     `json:"failed,omitempty"`
	Save      []SaveRule `json:"save,omitempty"`
	// UDTParams names the contact's data tables whose rows the item
	// carries (loaded through PUT /api/v1/contacts/{id}/data/{table}).
	UDTParams []string `json:"udt_params,omitempty"`
}

// Problem is one reason a journey cannot be saved or published.
type Problem struct {
	Node    string `json:"node,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	where := p.Node
	if p.Field != "" {
		where += "." + p.Field
	}
	if where == "" {
		return p.Message
	}
	return where + ": " + p.Message
}

// Limits of a journey.
const (
	maxNodes     = 100
	maxNameBytes = 200
	// MinWait and MaxWait bound a wait's within.
	MinWait = time.Second
	MaxWait = 90 * 24 * time.Hour
	// MaxReentryAfter bounds re-entry's after: ten years, far past any
	// campaign, and well inside what a duration holds.
	MaxReentryAfter = 3650 * 24 * time.Hour
)

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Reentry is when a contact may enter a journey again.
type Reentry struct {
	Always bool
	After  time.Duration // 0 with Always false: never
}

// ParseReentry reads "never" (the default), "always" or "after:<duration>".
func ParseReentry(s string) (Reentry, error) {
	switch s = strings.TrimSpace(s); {
	case s == "" || s == "never":
		return Reentry{}, nil
	case s == "always":
		return Reentry{Always: true}, nil
	case strings.HasPrefix(s, "after:"):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "after:"))
		if err != nil || d <= 0 {
			return Reentry{}, fmt.Errorf("after: wants a positive duration such as after:24h")
		}
		if d > MaxReentryAfter {
			return Reentry{}, fmt.Errorf("after: at most %v (ten years)", MaxReentryAfter)
		}
		return Reentry{After: d}, nil
	}
	return Reentry{}, fmt.Errorf("must be never, always or after:<duration>")
}

// Allows says whether a contact whose last entry was at last (zero: never
// entered) may enter now.
func (r Reentry) Allows(last, now time.Time) bool {
	switch {
	case last.IsZero() || r.Always:
		return true
	case r.After > 0:
		return !now.Before(last.Add(r.After))
	}
	return false
}

// Node returns the node with this id.
func (d *Definition) Node(id string) *Node {
	for i := range d.Nodes {
		if d.Nodes[i].ID == id {
			return &d.Nodes[i]
		}
	}
	return nil
}

// Trigger returns the trigger node (nil when there is none).
func (d *Definition) Trigger() *Node {
	for i := range d.Nodes {
		if d.Nodes[i].Type == TypeTrigger {
			return &d.Nodes[i]
		}
	}
	return nil
}

// WaitDuration is a wait node's waiting period.
func (n *Node) WaitDuration() time.Duration {
	d, _ := time.ParseDuration(n.Within)
	return d
}

// Exits lists the nodes a node leads to: a wait's "happened" and "timeout",
// a webhook node's "delivered" and "failed" when it waits for its outcome,
// nothing after a stop, else "next".
func (n *Node) Exits() []string { return n.exits() }

func (n *Node) exits() []string {
	switch {
	case n.Type == TypeWait:
		return []string{n.Happened, n.Timeout}
	case n.Type == TypeStop:
		return nil
	case n.AwaitsOutcome():
		return []string{n.OutcomeExit(true), n.OutcomeExit(false)}
	}
	return []string{n.Next}
}

// AwaitsOutcome reports a webhook node whose run waits for its delivery:
// it has a delivered or failed exit, or saves from the response.
func (n *Node) AwaitsOutcome() bool {
	return n.Type == TypeWebhook && (n.Delivered != "" || n.Failed != "" || len(n.Save) > 0)
}

// OutcomeExitName names the exit OutcomeExit takes, as the stats count it:
// delivered or failed when the node has that exit, else next.
func (n *Node) OutcomeExitName(delivered bool) string {
	switch {
	case delivered && n.Delivered != "":
		return ExitDelivered
	case !delivered && n.Failed != "":
		return ExitFailed
	}
	return ExitNext
}

// OutcomeExitNames are the exits a run waiting at this webhook node may
// take, once each.
func (n *Node) OutcomeExitNames() []string {
	a, b := n.OutcomeExitName(true), n.OutcomeExitName(false)
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// OutcomeExit is where a run waiting at this webhook node goes once its
// delivery was delivered (or failed for good): that exit, else next.
func (n *Node) OutcomeExit(delivered bool) string {
	if delivered && n.Delivered != "" {
		return n.Delivered
	}
	if !delivered && n.Failed != "" {
		return n.Failed
	}
	return n.Next
}
