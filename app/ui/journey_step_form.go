package ui

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/jobs/journey"
)

// Choices the webhook step offers as check boxes; others can be typed.
var (
	eventParamChoices = []string{"timestamp", "ts", "email", "foreignkey", "ip_addr", "user_agent", "msgid",
		"message_name", "channel", "event"}
	attParamChoices = []string{"EMAIL", "FIRSTNAME", "LASTNAME", "CITY", "COUNTRY", "MOBILE", "EXTERNAL_ID"}
	// eventSuggestions are the channel events the README lists ("Ingest API"); custom
	// activities are typed.
	eventSuggestions = []string{"delivered", "open", "click", "bounce", "failed"}
)

// stepFromForm reads a step's side form onto the step as stored: only the
// fields of its type change. What the form cannot even read is reported by
// field, and the durations as typed are returned to show again with it;
// everything else is journey's Check to judge.
func stepFromForm(n journey.Node, form url.Values) (journey.Node, formErrors, typedDurations) {
	errs, typed := formErrors{}, typedDurations{}
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	switch n.Type {
	case journey.TypeTrigger:
		n = triggerFromForm(n, form, errs)
		n.Filters = filtersFromForm(form)
		n.Next = get("next")
	case journey.TypeAction:
		n.Channel, n.MessageName, n.Next = get("channel"), get("message_name"), get("next")
	case journey.TypeWait:
		n.Event, n.Channel, n.OfNode = get("event"), get("channel"), get("of_node")
		n.Happened, n.Timeout = get("happened"), get("timeout")
		if within, ok := typed.read(form, "within", journey.MinWait, journey.MaxWait, errs); ok {
			n.Within = within
		}
		n.Filters = filtersFromForm(form)
	case journey.TypeWebhook:
		id, err := strconv.ParseInt(get("webhook_id"), 10, 64)
		if err != nil {
			errs["webhook_id"] = "Pick a webhook."
		}
		n.WebhookID = id
		n.EventParams = paramsFromForm(form["event_params"], get("event_params_other"), false)
		n.AttParams = paramsFromForm(form["att_params"], get("att_params_other"), true)
		n.UDTParams = paramsFromForm(nil, get("udt_params"), false)
		n.CustomParams = nil
		keys, values := form["custom_key"], form["custom_value"]
		for i, k := range keys {
			k = strings.TrimSpace(k)
			v := ""
			if i < len(values) {
				v = values[i]
			}
			if k == "" && strings.TrimSpace(v) == "" {
				continue
			}
			if k == "" {
				errs["custom_params"] = "Every custom value needs a name."
				continue
			}
			if n.CustomParams == nil {
				n.CustomParams = map[string]any{}
			}
			n.CustomParams[k] = v
		}
		n.Next = get("next")
		n.Delivered, n.Failed = get("delivered"), get("failed")
		n.Save = saveRulesFromForm(form)
	}
	return n, errs, typed
}

// typedDurations are the duration fields of a form as typed, by field.
type typedDurations map[string]durationField

// read reads the duration field (its <field>_number and <field>_unit)
// into the API's Go duration, between lo and hi; a refused one is
// reported at the field and ok is false.
func (t typedDurations) read(form url.Values, field string, lo, hi time.Duration, errs formErrors) (string, bool) {
	f := durationField{Number: strings.TrimSpace(form.Get(field + "_number")), Unit: form.Get(field + "_unit")}
	t[field] = f
	d, err := parseDuration(f, lo, hi)
	if err != nil {
		errs[field] = sentence(err.Error()) + "."
		return "", false
	}
	return goDuration(d), true
}

// saveRulesFromForm reads the rows of fields to save from the response;
// a row left blank is dropped, a half-filled one kept for Check to name.
func saveRulesFromForm(form url.Values) []journey.SaveRule {
	paths, attrs := form["save_path"], form["save_attribute"]
	var out []journey.SaveRule
	for i, path := range paths {
		attr := ""
		if i < len(attrs) {
			attr = attrs[i]
		}
		path, attr = strings.TrimSpace(path), strings.TrimSpace(attr)
		if path == "" && attr == "" {
			continue
		}
		out = append(out, journey.SaveRule{Path: path, Attribute: strings.ToUpper(attr)})
	}
	return out
}

// triggerFromForm reads what starts the journey: an activity, a contact
// joining a segment, or a contact added to a list (trigger_kind; a form
// without it keeps the kind the step has).
func triggerFromForm(n journey.Node, form url.Values, errs formErrors) journey.Node {
	kind := strings.TrimSpace(form.Get("trigger_kind"))
	if kind == "" && triggerKind(n) != "activity" {
		return n
	}
	pick := func(field, what string) int64 {
		id, err := strconv.ParseInt(strings.TrimSpace(form.Get(field)), 10, 64)
		if err != nil || id <= 0 {
			errs[field] = "Pick a " + what + "."
			return 0
		}
		return id
	}
	switch kind {
	case "segment":
		n.Event, n.Channel, n.List, n.Segment = "", "", 0, pick("segment", "segment")
	case "list":
		n.Event, n.Channel, n.Segment, n.List = "", "", 0, pick("list", "list")
	default:
		n.Segment, n.List = 0, 0
		n.Event, n.Channel = strings.TrimSpace(form.Get("event")), strings.TrimSpace(form.Get("channel"))
	}
	return n
}

// triggerKind names what starts the journey, as the trigger form's choice.
func triggerKind(n journey.Node) string {
	switch {
	case n.Segment != 0:
		return "segment"
	case n.List != 0:
		return "list"
	}
	return "activity"
}

// paramsFromForm joins the ticked boxes and the typed extras (comma
// separated), each once, in that order.
func paramsFromForm(ticked []string, other string, upper bool) []string {
	var out []string
	for _, p := range append(slices.Clone(ticked), strings.Split(other, ",")...) {
		p = strings.TrimSpace(p)
		if upper {
			p = strings.ToUpper(p)
		}
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// filtersFromForm reads the filter rows. A value for "in" is a comma
// separated list; "exists" takes none.
func filtersFromForm(form url.Values) []journey.Filter {
	kinds, names, ops, values := form["filter_kind"], form["filter_name"], form["filter_op"], form["filter_value"]
	var out []journey.Filter
	for i, name := range names {
		name = strings.TrimSpace(name)
		at := func(list []string) string {
			if i < len(list) {
				return strings.TrimSpace(list[i])
			}
			return ""
		}
		op, value := at(ops), at(values)
		if name == "" && value == "" {
			continue
		}
		f := journey.Filter{Op: op}
		if at(kinds) == "property" {
			f.Property = name
		} else {
			f.Attribute = strings.ToUpper(name)
		}
		switch op {
		case "exists":
		case "in":
			var list []any
			for _, v := range strings.Split(value, ",") {
				if v = strings.TrimSpace(v); v != "" {
					list = append(list, v)
				}
			}
			if len(list) > 0 {
				f.Value = list // else Check says a list is needed
			}
		default:
			if value != "" {
				f.Value = value
			}
		}
		out = append(out, f)
	}
	return out
}

// filterValue writes a filter's value back into its form field.
func filterValue(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = text(e)
		}
		return strings.Join(parts, ", ")
	}
	return text(v)
}

func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
