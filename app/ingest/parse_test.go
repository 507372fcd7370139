package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

var parseNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestParseIngest(t *testing.T) {
	t.Parallel()
	evs, err := Parse("application/json", []byte(`{"event": " open ", "event_id": 12345678901234567890,
		"timestamp": 1669996085123, "properties": {"channel": "EMAIL", "msgid": 546, "amount": 12.50},
		"user": {"email": " A@B.com ", "phone": "+91 98450-12345", "external_id": "u-1", "first_name": "Ann", "plan": "gold"}}`), parseNow)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "open", ev.Name)
	require.Equal(t, "12345678901234567890", ev.EventID, "large ids keep every digit")
	require.Equal(t, time.Date(2022, 12, 2, 15, 48, 5, 123e6, time.UTC), ev.At)
	require.Equal(t, "email", ev.Channel)
	require.Equal(t, "546", ev.MsgID)
	require.Equal(t, json.Number("12.50"), ev.Properties["amount"])
	require.Equal(t, models.Identity{ExternalID: "u-1", Email: "a@b.com", Phone: "+919845012345"}, ev.User)
	require.Equal(t, map[string]any{"EMAIL": "a@b.com", "MOBILE": "+919845012345", "EXTERNAL_ID": "u-1",
		"FIRSTNAME": "Ann", "PLAN": "gold"}, ev.Attributes)

	evs, err = Parse("application/json", []byte(`[{"event": "a"}, {"event": "b", "timestamp": "2026-11-23T11:00:00+01:00"}]`), parseNow)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	require.Equal(t, parseNow, evs[0].At, "no timestamp means now")
	require.Equal(t, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), evs[1].At)
	require.True(t, evs[0].User.Empty())

	many := make([]map[string]any, maxEventsPerRequest+1)
	for i := range many {
		many[i] = map[string]any{"event": "x"}
	}
	raw, _ := json.Marshal(many)
	_, err = Parse("application/json", raw, parseNow)
	require.ErrorContains(t, err, "at most 1000")
}

// A flat event names its user with top-level fields, and its other
// top-level keys are properties: nothing the sender wrote is dropped.
func TestParseIngestTopLevelFields(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ct, body string
		user           models.Identity
		attrs          map[string]any
		props          map[string]any
	}{
		{"the issue's example", "application/json",
			`{"event": "Conversion", "email": "a@example.com", "firstName": "John", "timestamp": 1528611279398}`,
			models.Identity{Email: "a@example.com"}, map[string]any{"EMAIL": "a@example.com", "FIRSTNAME": "John"}, map[string]any{}},
		{"every user field, snake case", "application/json",
			`{"event": "x", "external_id": "u-1", "phone": "+91 98450-12345", "first_name": "Ann", "last_name": "Lee"}`,
			models.Identity{ExternalID: "u-1", Phone: "+919845012345"},
			map[string]any{"EXTERNAL_ID": "u-1", "MOBILE": "+919845012345", "FIRSTNAME": "Ann", "LASTNAME": "Lee"}, map[string]any{}},
		{"other keys are properties", "application/json",
			`{"event": "x", "email": "a@b.com", "lastName": "Lee", "amount": 12.50, "url": "https://a.example/", "properties": {"sku": "A1"}}`,
			models.Identity{Email: "a@b.com"}, map[string]any{"EMAIL": "a@b.com", "LASTNAME": "Lee"},
			map[string]any{"sku": "A1", "amount": json.Number("12.50"), "url": "https://a.example/"}},
		{"beside a user object", "application/json",
			`{"event": "x", "firstName": "Ann", "user": {"email": "a@b.com", "city": "Pune"}}`,
			models.Identity{Email: "a@b.com"}, map[string]any{"EMAIL": "a@b.com", "FIRSTNAME": "Ann", "CITY": "Pune"}, map[string]any{}},
		{"the same value twice", "application/json",
			`{"event": "x", "email": "a@b.com", "user": {"email": "a@b.com"}, "sku": "A1", "properties": {"sku": "A1"}}`,
			models.Identity{Email: "a@b.com"}, map[string]any{"EMAIL": "a@b.com"}, map[string]any{"sku": "A1"}},
		{"flat form, camel case", "application/x-www-form-urlencoded",
			"event=x&email=a%40b.com&firstName=Ann&lastName=Lee&plan=gold",
			models.Identity{Email: "a@b.com"}, map[string]any{"EMAIL": "a@b.com", "FIRSTNAME": "Ann", "LASTNAME": "Lee"},
			map[string]any{"plan": "gold"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			evs, err := Parse(tc.ct, []byte(tc.body), parseNow)
			require.NoError(t, err)
			require.Len(t, evs, 1)
			require.Equal(t, tc.user, evs[0].User)
			require.Equal(t, tc.attrs, evs[0].Attributes)
			require.Equal(t, tc.props, evs[0].Properties)
		})
	}
	// A field given twice with different values is refused, never one
	// of them dropped.
	for _, tc := range []struct{ name, body, want string }{
		{"two e-mails", `{"event": "x", "email": "a@b.com", "user": {"email": "c@d.com"}}`, "email and user.email are both given"},
		{"two first names", `{"event": "x", "firstName": "Ann", "first_name": "Bo"}`, "are both given"},
		{"a property twice", `{"event": "x", "sku": "A1", "properties": {"sku": "B2"}}`, "sku and properties.sku are both given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("application/json", []byte(tc.body), parseNow)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseIngestJSONSentAsForm(t *testing.T) {
	t.Parallel()
	// What `curl -d '{...}'` sends: JSON with a form content type.
	evs, err := Parse("application/x-www-form-urlencoded", []byte(` {"event": "open", "user": {"email": "a@b.com"}}`), parseNow)
	require.NoError(t, err)
	require.Equal(t, "open", evs[0].Name)
	require.Equal(t, "a@b.com", evs[0].User.Email)
	evs, err = Parse("application/x-www-form-urlencoded", []byte(`event=open&email=a%40b.com`), parseNow)
	require.NoError(t, err)
	require.Equal(t, "a@b.com", evs[0].User.Email)
}

// The parser refuses what PostgreSQL's text and jsonb refuse, naming where
// it is: NUL, bytes that are not UTF-8 and unpaired UTF-16 surrogates, in
// keys and values at any depth, in JSON and in both form variants.
func TestParseIngestRefusesWhatPostgreSQLCannotStore(t *testing.T) {
	t.Parallel()
	const (
		jsonCT = "application/json"
		formCT = "application/x-www-form-urlencoded"
		rule   = ": text must be UTF-8 without NUL characters or unpaired UTF-16 surrogates"
	)
	for _, tc := range []struct{ name, ct, body, want string }{
		{"not UTF-8", jsonCT, "{\"event\": \"x\", \"properties\": {\"a\": \"\xff\"}}", "properties.a: holds bytes that are not UTF-8"},
		{"NUL in a key", jsonCT, `{"event": "x", "properties": {"a\u0000": 1}}`, "properties: has a key that holds a NUL character (\\u0000)"},
		{"NUL in a batch", jsonCT, `[{"event": "x"}, {"event": "y", "user": {"city": "\u0000"}}]`, "event 1: user.city: holds a NUL character (\\u0000)"},
		{"high surrogate", jsonCT, `{"event": "x", "properties": {"a": "\ud800"}}`, "properties.a: holds an unpaired UTF-16 surrogate (\\ud800)"},
		{"low surrogate", jsonCT, `{"event": "x", "properties": {"a": "x\uDFFFy"}}`, "properties.a: holds an unpaired UTF-16 surrogate (\\udfff)"},
		{"high then not low", jsonCT, `{"event": "x", "properties": {"a": "\ud83d\u0041"}}`, "properties.a: holds an unpaired UTF-16 surrogate (\\ud83d)"},
		{"two highs", jsonCT, `{"event": "x", "properties": {"a": "\ud83d\ud83d"}}`, "properties.a: holds an unpaired UTF-16 surrogate (\\ud83d)"},
		{"surrogate in a key", jsonCT, `{"event": "x", "properties": {"\udc00": 1}}`, "properties: has a key that holds an unpaired UTF-16 surrogate (\\udc00)"},
		{"deep", jsonCT, `{"event": "x", "properties": {"items": [{"sku": "A1"}, {"tags": ["ok", "\ud800"]}]}}`,
			"properties.items[1].tags[1]: holds an unpaired UTF-16 surrogate (\\ud800)"},
		{"in the event name", jsonCT, `{"event": "\ud800"}`, "event: holds an unpaired UTF-16 surrogate (\\ud800)"},
		{"in an unknown field", jsonCT, `{"event": "x", "extra": {"\u0000": 1}}`, "extra: has a key that holds a NUL character (\\u0000)"},
		{"in a top-level key", jsonCT, `{"event": "x", "\ud800": 1}`, "has a key that holds an unpaired UTF-16 surrogate (\\ud800)"},
		{"form data=", formCT, "data=" + url.QueryEscape(`{"event": "x", "properties": {"a": "\ud800"}}`), "properties.a: holds an unpaired UTF-16 surrogate (\\ud800)"},
		{"form not UTF-8", formCT, "event=%FF", "event: holds bytes that are not UTF-8"},
		{"form NUL", formCT, "event=x&note=%00", "note: holds a NUL character"},
		{"form encoded surrogate", formCT, "event=x&note=%ED%A0%80", "note: holds bytes that are not UTF-8"},
		{"form NUL in a name", formCT, "event=x&n%00te=1", "has a field name that holds a NUL character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.ct, []byte(tc.body), parseNow)
			require.EqualError(t, err, tc.want+rule, tc.body)
		})
	}
	// What PostgreSQL can store passes: a surrogate pair, an escaped
	// backslash before "u0000", U+FFFD itself.
	for _, body := range []string{`{"event": "x", "properties": {"emoji": "\ud83d\ude00", "text": "\\u0000 \\ud800", "r": "\ufffd"}}`,
		`{"event": "\uD83D\uDE00"}`} {
		evs, err := Parse(jsonCT, []byte(body), parseNow)
		require.NoError(t, err, body)
		require.Len(t, evs, 1)
	}
}

func TestFromUnix(t *testing.T) {
	t.Parallel()
	require.Equal(t, time.Unix(1669996085, 0), fromUnix(1669996085))
	require.Equal(t, time.UnixMilli(1669996085123), fromUnix(1669996085123))
	require.Equal(t, time.Unix(1669996085, 5e8), fromUnix(1669996085.5))
}

// FuzzParseIngest feeds the parser arbitrary bodies: it must never panic,
// and whatever it accepts must be events a journey can use and PostgreSQL
// can store. Beyond the seeds below, its corpus is in
// testdata/fuzz/FuzzParseIngest.
func FuzzParseIngest(f *testing.F) {
	for _, seed := range []string{
		`{"event": "open", "properties": {"channel": "email", "msgid": "546"}, "user": {"email": "a@b.com"}}`,
		`[{"event": "a", "timestamp": 1669996085}, {"event": "b", "timestamp": "2022-12-02T15:48:05Z"}]`,
		`{"event": "x", "properties": {"nested": {"deep": [{"email": "c@d.io"}]}}}`,
		`data=%7B%22event%22%3A%22x%22%7D`,
		`event=click&email=a%40b.com&msgid=1`,
		`{"event": 1}`, `[]`, `null`, `{"event": "x", "timestamp": -1e308}`,
	} {
		f.Add(seed, seed[0] == 'd' || seed[0] == 'e')
	}
	f.Fuzz(func(t *testing.T, body string, form bool) {
		ct := "application/json"
		if form {
			ct = "application/x-www-form-urlencoded"
		}
		evs, err := Parse(ct, []byte(body), parseNow)
		if err != nil {
			if ip := (*invalidPayload)(nil); !errors.As(err, &ip) {
				t.Fatalf("error of the wrong kind: %T %v", err, err)
			}
			return
		}
		if len(evs) == 0 || len(evs) > maxEventsPerRequest {
			t.Fatalf("accepted %d events", len(evs))
		}
		// A body read as JSON (any but a form's fields) must be JSON.
		if trimmed := strings.TrimLeft(body, " \t\r\n"); !form || strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") {
			if !json.Valid([]byte(body)) {
				t.Fatalf("accepted a body read as JSON that is not JSON: %q", body)
			}
		}
		for _, ev := range evs {
			if ev.Name == "" || ev.Properties == nil || ev.Attributes == nil || ev.At.IsZero() {
				t.Fatalf("accepted an unusable event: %+v", ev)
			}
			if ev.At.Year() < 2000 || ev.At.After(parseNow.Add(24*time.Hour)) {
				t.Fatalf("accepted timestamp %v", ev.At)
			}
			// PostgreSQL's text and jsonb refuse NUL and bytes that are not
			// UTF-8; fmt prints every key and string of the event as is.
			text := fmt.Sprint(ev.Name, ev.EventID, ev.Channel, ev.MsgID, ev.User, ev.Properties, ev.Attributes)
			if !utf8.ValidString(text) || strings.ContainsRune(text, 0) || !utf8.Valid(ev.Raw) {
				t.Fatalf("accepted text PostgreSQL cannot store: %q %q", text, ev.Raw)
			}
		}
	})
}

// An identifier PostgreSQL could not index is refused with the request,
// not left to fail the event's processing for ever.
func TestParseIngestRefusesLongIdentifiers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", models.MaxIdentifierBytes+1)
	for _, field := range []string{"external_id", "phone", "email"} {
		t.Run(field, func(t *testing.T) {
			t.Parallel()
			v := long
			if field == "phone" {
				v = strings.Repeat("1", models.MaxIdentifierBytes+1)
			}
			if field == "email" {
				v = long + "@example.com"
			}
			body, err := json.Marshal(map[string]any{"event": "x", "user": map[string]any{field: v}})
			require.NoError(t, err)
			_, err = Parse("application/json", body, parseNow)
			require.ErrorContains(t, err, "user."+field+" is longer than 255 bytes")
		})
	}
}
