package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/app/textrule"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// maxEventsPerRequest bounds one ingest request (the 1 MiB body bounds it too).
const maxEventsPerRequest = 1000

// userAttribute maps the ingest API's user fields to contact attributes;
// any other key is upper-cased.
var userAttribute = map[string]string{
	"email": "EMAIL", "phone": "MOBILE", "first_name": "FIRSTNAME", "last_name": "LASTNAME", "external_id": "EXTERNAL_ID",
}

// topLevelUserField names the user fields an event may carry beside user
// (flat events, as many senders write them), by their lower-case key, with
// the user field each stands for.
var topLevelUserField = map[string]string{
	"email": "email", "phone": "phone", "external_id": "external_id",
	"first_name": "first_name", "firstname": "first_name", "last_name": "last_name", "lastname": "last_name",
}

// eventField is what an event's own top-level keys are; any other
// top-level key is a user field (topLevelUserField) or a property.
var eventField = map[string]bool{"event": true, "event_id": true, "timestamp": true, "properties": true, "user": true}

// invalidPayload is a 400 with the ingest API's error body.
type invalidPayload struct{ detail string }

func (e *invalidPayload) Error() string { return e.detail }

func badPayload(format string, args ...any) error {
	return &invalidPayload{detail: fmt.Sprintf(format, args...)}
}

// Parse reads an ingest body: a JSON event or array of events, or a
// form with data=<that JSON>, or a form of flat fields (event, email, ...).
func Parse(contentType string, body []byte, now time.Time) ([]journey.Incoming, error) {
	// curl -d sends JSON labelled as a form; a form body never begins with
	// { or [, so such a body is read as the JSON it is.
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	looksJSON := len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	if !looksJSON && strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/x-www-form-urlencoded") {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badPayload("the form cannot be decoded: %v", err)
		}
		if form.Has("data") {
			body = []byte(form.Get("data"))
		} else {
			if bad := textrule.CheckForm(form); bad != nil {
				return nil, badPayload("%v", bad)
			}
			return parseFlatForm(form, now)
		}
	}
	// Each event is decoded on its own: journeys read its fields, and its
	// text is kept (subscriptions may deliver it unchanged). One decoder
	// splits the body into them as it checks it.
	var objs []json.RawMessage
	var one json.RawMessage
	first := firstByte(body)
	var into any = &one
	if first == '[' {
		into = &objs
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(into); err != nil {
		return nil, badPayload("the body is not JSON: %v", err)
	}
	// Not dec.More, which takes a stray ] or } for the end of a list.
	if len(bytes.Trim(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, badPayload("the body has data after the JSON value")
	}
	switch first {
	case '{':
		objs = []json.RawMessage{one}
	case '[':
	default:
		return nil, badPayload("the body must be an event object or an array of them")
	}
	if len(objs) == 0 {
		return nil, badPayload("the array holds no events")
	}
	if len(objs) > maxEventsPerRequest {
		return nil, badPayload("at most %d events per request, not %d", maxEventsPerRequest, len(objs))
	}
	out := make([]journey.Incoming, len(objs))
	for i, o := range objs {
		m, err := decodeEvent(o)
		if err != nil {
			return nil, badPayload("event %d is not an object", i)
		}
		// PostgreSQL keeps text as UTF-8 without NUL, and the event's text
		// is kept as it came: the decoder's repairs (U+FFFD for bad UTF-8
		// and lone surrogates) do not reach it, so such an event is
		// refused rather than stored as one thing and delivered as another.
		// And jsonb writes numbers out in full on every read: 1e131000 is
		// 131,001 digits (models.CheckNumbers).
		var bad error
		if u := textrule.CheckJSON(o); u != nil {
			bad = u
		} else if n := models.CheckNumbers(m, len(o)); n != nil {
			bad = n
		}
		if bad != nil {
			if len(objs) > 1 {
				return nil, badPayload("event %d: %v", i, bad)
			}
			return nil, badPayload("%v", bad)
		}
		ev, err := parseEvent(m, now)
		if err != nil {
			if len(objs) > 1 {
				return nil, badPayload("event %d: %v", i, err)
			}
			return nil, err
		}
		ev.Raw = o
		out[i] = ev
	}
	return out, nil
}

// decodeEvent decodes one event object, numbers exact (ids and amounts keep
// their digits). Its properties are not kept as text: they are stored as
// jsonb, which keeps their values and not their text, and encoding the
// decoded ones costs less than finding their text (a second decoding).
func decodeEvent(raw json.RawMessage) (map[string]any, error) {
	if firstByte(raw) != '{' {
		return nil, errors.New("not an object")
	}
	var m map[string]any
	if err := models.DecodeExact(raw, &m); err != nil {
		return nil, err
	}
	return m, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// parseFlatForm reads one event from flat form fields: event, event_id and
// timestamp; the user fields (email, phone, external_id, first_name or
// firstName, last_name or lastName); everything else is a property.
func parseFlatForm(form url.Values, now time.Time) ([]journey.Incoming, error) {
	m := map[string]any{}
	props := map[string]any{}
	user := map[string]any{}
	for k, vs := range form {
		v := vs[len(vs)-1]
		switch {
		case k == "event" || k == "event_id" || k == "timestamp":
			m[k] = v
		case topLevelUserField[strings.ToLower(k)] != "":
			user[topLevelUserField[strings.ToLower(k)]] = v
		default:
			props[k] = v
		}
	}
	m["properties"], m["user"] = props, user
	ev, err := parseEvent(m, now)
	if err != nil {
		return nil, err
	}
	return []journey.Incoming{ev}, nil
}

func parseEvent(m map[string]any, now time.Time) (journey.Incoming, error) {
	var ev journey.Incoming
	if !storable(m) {
		return ev, badPayload("text must be UTF-8 without NUL characters")
	}
	name, ok := m["event"].(string)
	if name = strings.TrimSpace(name); !ok || name == "" {
		return ev, badPayload("event is required and must be a non-empty string")
	}
	if len(name) > models.MaxEventName {
		return ev, badPayload("event is longer than %d bytes", models.MaxEventName)
	}
	ev.Name = name
	switch id := m["event_id"].(type) {
	case nil:
	case string:
		ev.EventID = strings.TrimSpace(id)
	case json.Number:
		ev.EventID = id.String()
	default:
		return ev, badPayload("event_id must be a string or a number")
	}
	if len(ev.EventID) > 200 {
		return ev, badPayload("event_id is longer than 200 bytes")
	}
	at, err := parseTimestamp(m["timestamp"], now)
	if err != nil {
		return ev, err
	}
	ev.At = at
	switch p := m["properties"].(type) {
	case nil:
		ev.Properties = map[string]any{}
	case map[string]any:
		ev.Properties = p
	default:
		return ev, badPayload("properties must be an object")
	}
	if ch, ok := ev.Properties["channel"].(string); ok {
		ev.Channel = strings.ToLower(strings.TrimSpace(ch))
	}
	switch id := ev.Properties["msgid"].(type) {
	case string:
		ev.MsgID = id
	case json.Number:
		ev.MsgID = id.String()
	}
	user := map[string]any{}
	switch u := m["user"].(type) {
	case nil:
	case map[string]any:
		user = u
	default:
		return ev, badPayload("user must be an object")
	}
	if err := flatFields(m, ev.Properties, user); err != nil {
		return ev, err
	}
	ev.Attributes = map[string]any{}
	for k, v := range user {
		key := userAttribute[strings.ToLower(k)]
		if key == "" {
			key = strings.ToUpper(strings.TrimSpace(k))
		}
		if key != "" {
			ev.Attributes[key] = v
		}
	}
	text := func(k string) string {
		switch v := user[k].(type) {
		case string:
			return strings.TrimSpace(v)
		case json.Number:
			return v.String()
		}
		return ""
	}
	ev.User = models.Identity{ExternalID: text("external_id"), Email: models.NormalizeEmail(text("email")),
		Phone: models.NormalizePhone(text("phone"))}
	// The attributes that mirror identifiers hold them as the contact is
	// known by: lower-case e-mail, phone as digits.
	for key, v := range map[string]string{"EMAIL": ev.User.Email, "MOBILE": ev.User.Phone} {
		if v != "" {
			ev.Attributes[key] = v
		}
	}
	if ev.User.Email == "" {
		// No user.email: an address elsewhere in the event names the user.
		if found := findEmail(ev.Properties, 0); found != "" {
			ev.User.Email = models.NormalizeEmail(found)
			if _, set := ev.Attributes["EMAIL"]; !set {
				ev.Attributes["EMAIL"] = ev.User.Email
			}
		}
	}
	if f := ev.User.TooLong(); f != "" {
		return ev, badPayload("user.%s is longer than %d bytes", f, models.MaxIdentifierBytes)
	}
	if ev.User.Email != "" && !models.LooksLikeEmail(ev.User.Email) {
		return ev, badPayload("user.email %q is not an e-mail address", ev.User.Email)
	}
	return ev, nil
}

// flatFields moves an event's other top-level keys where they belong: the
// user fields (email, firstName, ...) into user, anything else into
// properties, so nothing a sender wrote is dropped. A key given twice with
// different values (top-level email and user.email, or a top-level key and
// the same property) is refused rather than one of them silently lost.
func flatFields(m, props, user map[string]any) error {
	// Most events hold event fields only: sort just the others, so the
	// same body gives the same error.
	var keys []string
	for k := range m {
		if !eventField[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m[k]
		if field := topLevelUserField[strings.ToLower(k)]; field != "" {
			if err := putOnce(user, field, v, k, "user."+field); err != nil {
				return err
			}
			continue
		}
		if err := putOnce(props, k, v, k, "properties."+k); err != nil {
			return err
		}
	}
	return nil
}

// putOnce sets m[key] = v unless m holds another value there.
func putOnce(m map[string]any, key string, v any, given, other string) error {
	if old, ok := m[key]; ok && !reflect.DeepEqual(old, v) {
		return badPayload("%s and %s are both given, with different values", given, other)
	}
	m[key] = v
	return nil
}

// storable reports whether every key and string in v can be stored in
// PostgreSQL, whose text and jsonb refuse NUL and bytes that are not UTF-8:
// an event holding them would fail at insert, or later in a worker.
// (JSON decoding already replaced bad UTF-8; a form's %FF or %00 did not.)
func storable(v any) bool {
	ok := func(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
	switch x := v.(type) {
	case string:
		return ok(x)
	case map[string]any:
		for k, val := range x {
			if !ok(k) || !storable(val) {
				return false
			}
		}
	case []any:
		for _, val := range x {
			if !storable(val) {
				return false
			}
		}
	}
	return true
}

// parseTimestamp understands Unix seconds or milliseconds (numbers or
// numeric strings) and RFC 3339 (or YYYY-MM-DDTHH:MM:SS, read as UTC).
// Absent means now.
func parseTimestamp(v any, now time.Time) (time.Time, error) {
	var t time.Time
	switch x := v.(type) {
	case nil:
		return now, nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return t, badPayload("timestamp %q is not a number", x)
		}
		t = fromUnix(f)
	case string:
		x = strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			t = fromUnix(f)
			break
		}
		var err error
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
			if t, err = time.Parse(layout, x); err == nil {
				break
			}
		}
		if err != nil {
			return t, badPayload("timestamp %q is neither Unix seconds or milliseconds nor RFC 3339", x)
		}
	default:
		return t, badPayload("timestamp must be a number or a string")
	}
	if t.Year() < 2000 || t.After(now.Add(24*time.Hour)) {
		return t, badPayload("timestamp %s is out of range (2000 to a day from now)", t.UTC().Format(time.RFC3339))
	}
	return t.UTC(), nil
}

// fromUnix reads seconds, or milliseconds when the number is too large to
// be seconds of this era (1e11 s is the year 5138).
func fromUnix(f float64) time.Time {
	if math.Abs(f) >= 1e11 {
		return time.UnixMilli(int64(f))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// findEmail looks for an e-mail address in an event's properties: a value
// under an "email" key first, then any string that is one.
func findEmail(v any, depth int) string {
	if depth > 5 {
		return ""
	}
	m, ok := v.(map[string]any)
	keys := slices.Sorted(maps.Keys(m)) // the same payload finds the same address
	for _, k := range keys {
		if s, isStr := m[k].(string); isStr && strings.EqualFold(k, "email") && models.LooksLikeEmail(s) {
			return s
		}
	}
	var items []any
	if ok {
		for _, k := range keys {
			items = append(items, m[k])
		}
	} else if list, isList := v.([]any); isList {
		items = list
	}
	for _, val := range items {
		if s, isStr := val.(string); isStr && models.LooksLikeEmail(s) {
			return s
		}
		if found := findEmail(val, depth+1); found != "" {
			return found
		}
	}
	return ""
}
