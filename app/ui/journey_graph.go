package ui

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/heraldhq/herald/jobs/journey"
)

// The builder's edits of a journey graph. They are pure: the handlers load
// the journey, edit it here, and store it only when journey's own Check
// passes, as the API would.

// stepOrder lays the steps out top to bottom as a run meets them: from the
// trigger, depth first (a wait's "happened" branch before its "timeout"),
// stops at the end, and steps nothing leads to after them.
func stepOrder(d *journey.Definition) []string {
	seen := map[string]bool{}
	var order, stops []string
	var visit func(id string)
	visit = func(id string) {
		n := d.Node(id)
		if n == nil || seen[id] {
			return
		}
		seen[id] = true
		if n.Type == journey.TypeStop {
			stops = append(stops, id)
			return
		}
		order = append(order, id)
		for _, next := range n.Exits() {
			visit(next)
		}
	}
	if t := d.Trigger(); t != nil {
		visit(t.ID)
	}
	order = append(order, stops...)
	for _, n := range d.Nodes {
		if !seen[n.ID] {
			order = append(order, n.ID)
		}
	}
	return order
}

// insertStep puts n between the step after and where its exit led: exit is
// "happened" or "timeout" after a wait, ignored otherwise. The new step
// leads on to that same place (a new wait by both of its exits).
func insertStep(d *journey.Definition, after, exit string, n journey.Node) error {
	a := d.Node(after)
	switch {
	case a == nil:
		return fmt.Errorf("there is no step %q", after)
	case a.Type == journey.TypeStop:
		return errors.New("nothing comes after a stop")
	case d.Node(n.ID) != nil:
		return fmt.Errorf("a step %q exists already", n.ID)
	}
	slot := &a.Next
	switch {
	case a.Type == journey.TypeWait:
		slot = &a.Happened
		if exit == "timeout" {
			slot = &a.Timeout
		}
	case a.AwaitsOutcome() && (exit == "delivered" || exit == "failed"):
		// The exit may be unset (it is next); the new step takes next's place on it.
		slot = &a.Delivered
		if exit == "failed" {
			slot = &a.Failed
		}
		*slot = a.OutcomeExit(exit == "delivered")
	}
	switch n.Type {
	case journey.TypeWait:
		n.Happened, n.Timeout = *slot, *slot
	case journey.TypeStop:
	default:
		n.Next = *slot
	}
	*slot = n.ID
	d.Nodes = append(d.Nodes, n)
	return nil
}

// removeStep deletes a step and joins its neighbours: what led to it leads
// where it led (after a wait, to the exit that goes on rather than stops).
// The trigger stays, and so does a stop something still leads to.
func removeStep(d *journey.Definition, id string) error {
	i := slices.IndexFunc(d.Nodes, func(n journey.Node) bool { return n.ID == id })
	if i < 0 {
		return fmt.Errorf("there is no step %q", id)
	}
	n := d.Nodes[i]
	var to string
	switch n.Type {
	case journey.TypeTrigger:
		return errors.New("a journey keeps its trigger; change it instead")
	case journey.TypeWait:
		to = n.Happened
		if t := d.Node(n.Happened); t != nil && t.Type == journey.TypeStop {
			to = n.Timeout
		}
	case journey.TypeStop:
		for _, m := range d.Nodes {
			if slices.Contains(m.Exits(), id) {
				return errors.New("steps lead to this stop: point them elsewhere first")
			}
		}
	default:
		to = cmp.Or(n.Next, n.Delivered, n.Failed)
	}
	d.Nodes = slices.Delete(d.Nodes, i, i+1)
	for k := range d.Nodes {
		m := &d.Nodes[k]
		for _, slot := range []*string{&m.Next, &m.Happened, &m.Timeout, &m.Delivered, &m.Failed} {
			if *slot == id {
				*slot = to
			}
		}
		if m.OfNode == id {
			m.OfNode = ""
		}
	}
	return nil
}

// newStepID names a new step after its type: hook, hook2, hook3, ...
func newStepID(d *journey.Definition, typ string) string {
	base := map[string]string{journey.TypeAction: "action", journey.TypeWait: "wait",
		journey.TypeWebhook: "hook", journey.TypeStop: "end"}[typ]
	if base == "" {
		base = "step"
	}
	id := base
	for k := 2; d.Node(id) != nil; k++ {
		id = fmt.Sprintf("%s%d", base, k)
	}
	return id
}

// stepKinds name node types for people.
var stepKinds = map[string]string{
	journey.TypeTrigger: "Trigger", journey.TypeAction: "Send a message", journey.TypeWait: "Wait for event",
	journey.TypeWebhook: "Webhook", journey.TypeStop: "Stop",
}

// channelNames are the channels as marketers call them.
var channelNames = map[string]string{"email": "Email", "sms": "SMS", "apn": "iOS push", "bpn": "Web push",
	"whatsapp": "WhatsApp", "rcs": "RCS", "web": "Website", "app": "App"}

// channelName names a channel for people; unknown codes stay as they are.
func channelName(code string) string {
	if name, ok := channelNames[strings.ToLower(code)]; ok {
		return name
	}
	return code
}

// stepNames are the names a summary gives the panel's webhooks,
// segments and lists, by id, and the journey's steps (stepLabels).
type stepNames struct {
	assets, segments, lists map[int64]string
	steps                   map[string]string
}

// stepLabels name each step for people, as the drop-downs and summaries
// show it: its kind and what it acts on ("Trigger: Email open", "Webhook:
// “CRM”"), with its id in brackets only where two would read the same.
func stepLabels(d *journey.Definition, names stepNames) map[string]string {
	labels := make(map[string]string, len(d.Nodes))
	count := map[string]int{}
	for _, n := range d.Nodes {
		labels[n.ID] = stepLabel(&n, names)
		count[labels[n.ID]]++
	}
	for id, l := range labels {
		if count[l] > 1 {
			labels[id] = l + " (" + id + ")"
		}
	}
	return labels
}

// stepLabel is one step's label, before telling twins apart.
func stepLabel(n *journey.Node, names stepNames) string {
	kind := cmp.Or(stepKinds[n.Type], n.Type)
	var what string
	switch n.Type {
	case journey.TypeTrigger, journey.TypeWait:
		switch {
		case n.Segment != 0:
			what = "joins " + quoted(names.segments, "segment", n.Segment)
		case n.List != 0:
			what = "added to " + quoted(names.lists, "list", n.List)
		case n.Channel != "":
			what = channelName(n.Channel) + " " + n.Event
		default:
			what = n.Event
		}
	case journey.TypeAction:
		what = "“" + n.MessageName + "” by " + channelName(n.Channel)
	case journey.TypeWebhook:
		what = quoted(names.assets, "webhook", n.WebhookID)
	}
	if what = strings.TrimSpace(what); what == "" {
		return kind
	}
	return kind + ": " + what
}

// quoted is the name of a webhook, segment or list in quotes, or says it
// is missing.
func quoted(m map[int64]string, what string, id int64) string {
	if name, ok := m[id]; ok {
		return "“" + name + "”"
	}
	return fmt.Sprintf("%s %d (missing)", what, id)
}

// offered joins the panel's recent names (first, the most frequent
// first) and the usual ones, each once.
func offered(recent, usual []string) []string {
	out := slices.Clone(recent)
	for _, u := range usual {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// stepSummary says in a line what a step does.
func stepSummary(n *journey.Node, names stepNames) string {
	on := func(event, channel string) string {
		if channel == "" {
			return event
		}
		return event + " on " + channelName(channel)
	}
	switch n.Type {
	case journey.TypeTrigger:
		switch {
		case n.Segment != 0:
			return "A contact comes to match the segment " + quoted(names.segments, "segment", n.Segment)
		case n.List != 0:
			return "A contact is added to the list " + quoted(names.lists, "list", n.List)
		}
		s := "When " + on(n.Event, n.Channel) + " happens"
		if len(n.Filters) > 0 {
			s += fmt.Sprintf(", if %d filter(s) match", len(n.Filters))
		}
		return s
	case journey.TypeAction:
		return fmt.Sprintf("Send “%s” by %s", n.MessageName, channelName(n.Channel))
	case journey.TypeWait:
		s := fmt.Sprintf("Wait up to %s for %s", storedWords(n.Within), on(n.Event, n.Channel))
		if n.OfNode != "" {
			s += " of the message sent by " + cmp.Or(names.steps[n.OfNode], n.OfNode)
		}
		if len(n.Filters) > 0 {
			s += " where " + filtersText(n.Filters)
		}
		return s
	case journey.TypeWebhook:
		s := fmt.Sprintf("Send to %s: %d event params, %d attributes, %d custom", quoted(names.assets, "webhook", n.WebhookID),
			len(n.EventParams), len(n.AttParams), len(n.CustomParams))
		if len(n.UDTParams) > 0 {
			s += ", data tables " + strings.Join(n.UDTParams, ", ")
		}
		if n.AwaitsOutcome() {
			s += "; waits for the answer"
		}
		if len(n.Save) > 0 {
			attrs := make([]string, len(n.Save))
			for i, r := range n.Save {
				attrs[i] = r.Attribute
			}
			s += " and saves " + strings.Join(attrs, ", ")
		}
		return s
	case journey.TypeStop:
		return "The run ends here"
	}
	return strings.TrimSpace(n.Type)
}

// filtersText says what filters ask, as typed: "url eq https://shop/offer
// and linkid exists".
func filtersText(filters []journey.Filter) string {
	parts := make([]string, len(filters))
	for i, f := range filters {
		parts[i] = strings.TrimSpace(strings.Join([]string{f.Attribute + f.Property, f.Op, filterValue(f.Value)}, " "))
	}
	return strings.Join(parts, " and ")
}
