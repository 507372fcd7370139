package journey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/heraldhq/herald/models"
)

// SaveRule copies one field of a webhook's JSON response into a contact
// attribute: the value at Path (dotted, list elements by index:
// data.items.0.id) becomes attribute Attribute (upper-case).
type SaveRule struct {
	Path      string `json:"path"`
	Attribute string `json:"attribute"`
}

// Limits of saving from a response.
const (
	// MaxResponseBytes is the largest response body a webhook node saves
	// from; a larger one saves nothing.
	MaxResponseBytes = 64 << 10
	maxSaveRules     = 20
	maxSavePath      = 200
)

var (
	savePathPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,15}$`)
	attributePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`)
	// identityAttributes mirror the contact's identity (e-mail, phone,
	// external id); a receiver's answer may not rewrite them.
	identityAttributes = []string{"EMAIL", "MOBILE", "EXTERNAL_ID"}
)

// checkOutcome checks a node's outcome exits and save rules: only a
// webhook node has them, and each rule names a well-formed path and
// attribute (upper-cased here, as stored).
func checkOutcome(n *Node, add func(node, field, format string, args ...any)) {
	if n.Type != TypeWebhook {
		for _, f := range []struct {
			name string
			set  bool
		}{{"delivered", n.Delivered != ""}, {"failed", n.Failed != ""}, {"save", len(n.Save) > 0}} {
			if f.set {
				add(n.ID, f.name, "only a webhook node has %s", f.name)
			}
		}
		return
	}
	if len(n.Save) > maxSaveRules {
		add(n.ID, "save", "at most %d fields", maxSaveRules)
	}
	seen := map[string]bool{}
	for j := range n.Save {
		r := &n.Save[j]
		r.Path, r.Attribute = strings.TrimSpace(r.Path), strings.ToUpper(strings.TrimSpace(r.Attribute))
		switch {
		case r.Path == "":
			add(n.ID, fmt.Sprintf("save[%d].path", j), "is required: the dotted path of a field of the JSON response, such as data.score")
		case len(r.Path) > maxSavePath || !savePathPattern.MatchString(r.Path):
			add(n.ID, fmt.Sprintf("save[%d].path", j),
				"must be up to 16 names of letters, digits, '_' or '-' joined by dots (data.score, items.0.id), at most %d bytes", maxSavePath)
		}
		switch {
		case r.Attribute == "":
			add(n.ID, fmt.Sprintf("save[%d].attribute", j), "is required: the contact attribute to set, such as SCORE")
		case !attributePattern.MatchString(r.Attribute):
			add(n.ID, fmt.Sprintf("save[%d].attribute", j), "must be a letter then up to 63 letters, digits or '_'")
		case isIdentity(r.Attribute):
			add(n.ID, fmt.Sprintf("save[%d].attribute", j), "%s is the contact's identity and cannot be set from a response", r.Attribute)
		case seen[r.Attribute]:
			add(n.ID, fmt.Sprintf("save[%d].attribute", j), "%s is saved twice", r.Attribute)
		}
		seen[r.Attribute] = true
	}
	if n.AwaitsOutcome() && n.Next == "" && (n.Delivered == "" || n.Failed == "") {
		add(n.ID, "next", "is required unless both delivered and failed are set")
	}
}

func isIdentity(attr string) bool {
	for _, a := range identityAttributes {
		if a == attr {
			return true
		}
	}
	return false
}

// CheckBatching finds the webhook nodes that save from a response of an
// asset that sends several events per request: a response can only be
// one contact's when its request carried one event (batch_size 1). Assets
// absent from assets are not judged here (publishing requires them).
func (d *Definition) CheckBatching(assets map[int64]Asset) []Problem {
	var ps []Problem
	for _, n := range d.Nodes {
		a, ok := assets[n.WebhookID]
		if n.Type != TypeWebhook || len(n.Save) == 0 || !ok || a.BatchSize == 1 {
			continue
		}
		ps = append(ps, Problem{Node: n.ID, Field: "save", Message: fmt.Sprintf(
			"saving from the response needs webhook %q to send one event per request (batch_size 1); it sends up to %d",
			a.Label, a.BatchSize)})
	}
	return ps
}

// Outcome is what became of the delivery a run waits for at a webhook node.
type Outcome struct {
	// Delivered: a 2xx accepted it. Otherwise it failed for good (a
	// permanent error, out of attempts or of time) or is gone.
	Delivered bool
	// Response is the body of the 2xx, kept for the node's save rules;
	// nil when none was kept.
	Response []byte
}

// AfterDelivery moves a run on from the webhook node it waits at: the
// node's save rules copy fields of the response into the contact (Step.Saved,
// seen by the rest of the walk), then the run takes the delivered or the
// failed exit.
func (d *Definition) AfterDelivery(st *State, node string, o Outcome, c *Contact, env *Env) Step {
	n := d.Node(node)
	if n == nil || !n.AwaitsOutcome() {
		return Step{Node: node, Reason: "the journey no longer has the webhook node this run waited at"}
	}
	var saved map[string]any
	var note string
	if o.Delivered && len(n.Save) > 0 {
		saved, note = SaveFromResponse(n.Save, o.Response)
	}
	if len(saved) > 0 {
		cc := *c
		cc.Attributes = maps.Clone(c.Attributes)
		if cc.Attributes == nil {
			cc.Attributes = map[string]any{}
		}
		maps.Copy(cc.Attributes, saved)
		c = &cc
	}
	step := d.walk(st, n.OutcomeExit(o.Delivered), c, env)
	step.Passes = append([]Pass{{Node: n.ID, Exit: n.OutcomeExitName(o.Delivered)}}, step.Passes...)
	step.Saved, step.SaveNote = saved, note
	return step
}

// SaveFromResponse reads the save rules' fields from a JSON response. It
// returns the attributes to set and, when some could not be, why (for the
// log). Numbers keep their exact text; a field holding a NUL character
// (which PostgreSQL cannot store) or a number over models.CheckNumbers'
// bounds (which jsonb would write out far longer on every read) is not
// saved.
func SaveFromResponse(rules []SaveRule, body []byte) (map[string]any, string) {
	if body == nil {
		return nil, fmt.Sprintf("no response body was kept (empty, or over %d KiB, or the request carried several events)", MaxResponseBytes>>10)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return nil, "the response is not JSON"
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, "the response is not a JSON object"
	}
	saved := map[string]any{}
	var missing []string
	// The values saved share one budget for what their numbers add
	// written out: twenty rules naming one field were twenty budgets.
	numbers := models.NewNumberBudget(len(body))
	for _, r := range rules {
		v, ok := lookup(root, r.Path)
		if !ok || !storable(v) || numbers.Check(v) != nil {
			missing = append(missing, r.Path)
			continue
		}
		saved[r.Attribute] = v
	}
	note := ""
	if len(missing) > 0 {
		note = "not in the response (or holding a NUL character, or a number far longer written out than sent): " +
			strings.Join(missing, ", ")
	}
	return saved, note
}

// errNUL marks a value PostgreSQL's jsonb cannot hold.
var errNUL = errors.New("holds a NUL character")

// storable reports a value without NUL characters in any key or string.
func storable(v any) bool {
	var walk func(v any) error
	walk = func(v any) error {
		switch t := v.(type) {
		case string:
			if strings.ContainsRune(t, 0) {
				return errNUL
			}
		case []any:
			for _, e := range t {
				if err := walk(e); err != nil {
					return err
				}
			}
		case map[string]any:
			for k, e := range t {
				if strings.ContainsRune(k, 0) {
					return errNUL
				}
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v) == nil
}
