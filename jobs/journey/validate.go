package journey

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/models"
)

// Check finds what is malformed in a definition: what stops it from being
// saved at all. Each problem names the node and field.
func (d *Definition) Check() []Problem {
	var ps []Problem
	add := func(node, field, format string, args ...any) {
		ps = append(ps, Problem{Node: node, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	d.Name = strings.TrimSpace(d.Name)
	switch {
	case d.Name == "":
		add("", "name", "is required")
	case len(d.Name) > maxNameBytes:
		add("", "name", "is longer than %d bytes", maxNameBytes)
	}
	if _, err := ParseReentry(d.Reentry); err != nil {
		add("", "reentry", "%v", err)
	}
	if len(d.Nodes) == 0 {
		add("", "nodes", "a journey needs at least a trigger")
	}
	if len(d.Nodes) > maxNodes {
		add("", "nodes", "at most %d nodes", maxNodes)
	}
	seen := map[string]bool{}
	triggers := 0
	for i := range d.Nodes {
		n := &d.Nodes[i]
		id := n.ID
		if !nodeIDPattern.MatchString(id) {
			add(fmt.Sprintf("nodes[%d]", i), "id", "must be 1-64 letters, digits, '_' or '-'")
			continue
		}
		if seen[id] {
			add(id, "id", "is used by two nodes")
		}
		seen[id] = true
		if len(n.Event) > models.MaxEventName {
			// No ingested event is named so (nothing could match it), and a
			// wait keeps the name in an index, whose rows have a size limit.
			add(id, "event", "is longer than %d bytes, as no event's name may be", models.MaxEventName)
		}
		switch n.Type {
		case TypeTrigger:
			triggers++
			kinds := 0
			for _, set := range []bool{n.Event != "", n.Segment != 0, n.List != 0} {
				if set {
					kinds++
				}
			}
			if kinds != 1 {
				add(id, "event", "a trigger needs exactly one of event, segment or list")
			}
			if n.Channel != "" && n.Event == "" {
				add(id, "channel", "only an event trigger has a channel")
			}
			checkChannel(n.Channel, id, add)
			for j, f := range n.Filters {
				if err := f.check(); err != nil {
					add(id, fmt.Sprintf("filters[%d]", j), "%v", err)
				}
				if f.Property != "" && n.Event == "" {
					add(id, fmt.Sprintf("filters[%d]", j), "property filters need an event trigger")
				}
			}
		case TypeAction:
			if !slices.Contains(Channels[:6], n.Channel) {
				add(id, "channel", "must be one of %s", strings.Join(Channels[:6], ", "))
			}
			if strings.TrimSpace(n.MessageName) == "" {
				add(id, "message_name", "is required")
			}
		case TypeWait:
			if strings.TrimSpace(n.Event) == "" {
				add(id, "event", "is required")
			}
			checkChannel(n.Channel, id, add)
			d, err := time.ParseDuration(n.Within)
			switch {
			case err != nil:
				add(id, "within", "must be a duration such as 30m or 24h")
			case d < MinWait || d > MaxWait:
				add(id, "within", "must be between %v and %v", MinWait, MaxWait)
			}
			for j, f := range n.Filters {
				if err := f.check(); err != nil {
					add(id, fmt.Sprintf("filters[%d]", j), "%v", err)
				} else if f.Property == "" {
					add(id, fmt.Sprintf("filters[%d]", j), "a wait filters the awaited event's properties only (property, not attribute)")
				}
			}
			if n.Happened == "" {
				add(id, "happened", "is required: where the run goes when the event comes in time")
			}
			if n.Timeout == "" {
				add(id, "timeout", "is required: where the run goes when the wait runs out")
			}
		case TypeWebhook:
			if n.WebhookID <= 0 {
				add(id, "webhook_id", "is required")
			}
			for j, p := range n.AttParams {
				if strings.TrimSpace(p) == "" {
					add(id, fmt.Sprintf("att_params[%d]", j), "is empty")
				}
			}
			for j, p := range n.EventParams {
				if strings.TrimSpace(p) == "" {
					add(id, fmt.Sprintf("event_params[%d]", j), "is empty")
				}
			}
			for j, table := range n.UDTParams {
				if !models.DataTablePattern.MatchString(table) {
					add(id, fmt.Sprintf("udt_params[%d]", j), "must name a data table: 1-64 letters, digits, '_' or '-'")
				}
			}
			if n.AwaitsOutcome() {
				checkOutcome(n, add)
				continue // checkOutcome says when next is required
			}
		case TypeStop:
		default:
			add(id, "type", "must be trigger, action, wait_for_event, webhook or stop")
			continue
		}
		checkOutcome(n, add)
		if n.Type != TypeWait && n.Type != TypeStop && n.Next == "" {
			add(id, "next", "is required")
		}
	}
	if triggers != 1 && len(d.Nodes) > 0 {
		add("", "nodes", "a journey has exactly one trigger, not %d", triggers)
	}
	for i := range d.Nodes {
		n := &d.Nodes[i]
		for _, field := range []struct{ name, target string }{
			{"next", n.Next}, {"happened", n.Happened}, {"timeout", n.Timeout}, {"of_node", n.OfNode},
			{"delivered", n.Delivered}, {"failed", n.Failed},
		} {
			if field.target == "" || !seen[n.ID] {
				continue
			}
			t := d.Node(field.target)
			switch {
			case t == nil:
				add(n.ID, field.name, "names node %q, which does not exist", field.target)
			case field.name == "of_node" && t.Type != TypeAction && t.Type != TypeTrigger:
				add(n.ID, field.name, "must name an action node or the trigger")
			case field.name != "of_node" && t.Type == TypeTrigger:
				add(n.ID, field.name, "cannot lead back to the trigger")
			}
		}
	}
	return ps
}

func checkChannel(ch, id string, add func(node, field, format string, args ...any)) {
	if ch != "" && !slices.Contains(Channels, ch) {
		add(id, "channel", "must be one of %s", strings.Join(Channels, ", "))
	}
}

// Asset is what publishing needs to know of a webhook asset.
type Asset struct {
	Label     string
	Active    bool
	BatchSize int
}

// CheckPublish finds what stops a well-formed journey from going live:
// nodes the trigger cannot reach, loops that no wait breaks (a run would
// spin forever), and webhook nodes on assets that are missing or not
// active.
func (d *Definition) CheckPublish(assets map[int64]Asset) []Problem {
	ps := d.Check()
	if len(ps) > 0 {
		return ps
	}
	trigger := d.Trigger()
	reached := map[string]bool{}
	var walk func(id string)
	walk = func(id string) {
		if id == "" || reached[id] {
			return
		}
		reached[id] = true
		for _, next := range d.Node(id).exits() {
			walk(next)
		}
	}
	walk(trigger.ID)
	for _, n := range d.Nodes {
		if !reached[n.ID] {
			ps = append(ps, Problem{Node: n.ID, Message: "cannot be reached from the trigger"})
		}
	}
	if cycle := d.loopWithoutWait(); cycle != nil {
		ps = append(ps, Problem{Node: cycle[0], Message: "is on a loop with no wait_for_event: " + strings.Join(cycle, " → ")})
	}
	ps = append(ps, d.CheckBatching(assets)...)
	for _, n := range d.Nodes {
		if n.Type != TypeWebhook {
			continue
		}
		a, ok := assets[n.WebhookID]
		switch {
		case !ok:
			ps = append(ps, Problem{Node: n.ID, Field: "webhook_id", Message: fmt.Sprintf("webhook %d does not exist", n.WebhookID)})
		case !a.Active:
			ps = append(ps, Problem{Node: n.ID, Field: "webhook_id",
				Message: fmt.Sprintf("webhook %q is not active: test it and activate it first", a.Label)})
		}
	}
	return ps
}

// loopWithoutWait returns a cycle through non-wait nodes, if there is one.
func (d *Definition) loopWithoutWait() []string {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var path []string
	var found []string
	var visit func(id string) bool
	visit = func(id string) bool {
		n := d.Node(id)
		if n == nil || n.Type == TypeWait {
			return false
		}
		switch state[id] {
		case open:
			i := slices.Index(path, id)
			found = append(slices.Clone(path[i:]), id)
			return true
		case done:
			return false
		}
		state[id] = open
		path = append(path, id)
		for _, next := range n.exits() {
			if visit(next) {
				return true
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		return false
	}
	for _, n := range d.Nodes {
		if visit(n.ID) {
			return found
		}
	}
	return nil
}
