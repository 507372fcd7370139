package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

func countEvents(t *testing.T, env *apptest.Env) int64 {
	t.Helper()
	var n int64
	require.NoError(t, env.Store.DBForTest().Model(&models.Event{}).Count(&n).Error)
	return n
}

// processedEvent waits until the worker has processed an event and
// returns it.
func processedEvent(t *testing.T, env *apptest.Env, eventID string) models.Event {
	t.Helper()
	var ev models.Event
	require.Eventually(t, func() bool {
		return env.Store.DBForTest().Where("event_id = ? AND processed_at IS NOT NULL", eventID).Take(&ev).Error == nil
	}, 10*time.Second, 20*time.Millisecond, "event %s processed", eventID)
	return ev
}

func TestIngestStoresAndDeduplicates(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	key := env.IngestKey()
	code, raw := env.Ingest(key, "crm", []any{
		map[string]any{"event": "signup", "event_id": "e-1", "user": map[string]any{"external_id": "u1", "email": "u1@x.com"}},
		map[string]any{"event": "login", "event_id": 42, "user": map[string]any{"external_id": "u1"}},
	}, "")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"success": true, "eventsReceived": 2}`, raw)
	require.EqualValues(t, 2, countEvents(t, env))

	// A repeat is acknowledged, not stored twice.
	code, raw = env.Ingest(key, "crm", map[string]any{"event": "signup", "event_id": "e-1"}, "")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"success": true, "eventsReceived": 1}`, raw)
	require.EqualValues(t, 2, countEvents(t, env))

	ev := processedEvent(t, env, "42")
	require.Equal(t, "crm", ev.Source)
	require.NotNil(t, ev.ContactID)
	c, err := env.Store.ContactByID(context.Background(), env.Panel.ID, *ev.ContactID)
	require.NoError(t, err)
	require.Equal(t, "u1@x.com", *c.Email, "events of one user share one contact")
}

func TestIngestTimestampUnits(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	key := env.IngestKey()
	for i, ts := range []any{1669996085, 1669996085000, "1669996085", "2022-12-02T15:48:05Z", "2022-12-02T15:48:05"} {
		code, raw := env.Ingest(key, "pos", map[string]any{"event": "tick", "event_id": i, "timestamp": ts}, "")
		require.Equal(t, 200, code, raw)
	}
	var times []time.Time
	require.NoError(t, env.Store.DBForTest().Model(&models.Event{}).Pluck("occurred_at", &times).Error)
	require.Len(t, times, 5)
	for _, at := range times {
		require.True(t, at.Equal(time.Date(2022, 12, 2, 15, 48, 5, 0, time.UTC)), "seconds and milliseconds mean the same instant: %v", at)
	}
}

func TestIngestFormEncoded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	key := env.IngestKey()
	const form = "application/x-www-form-urlencoded"
	code, raw := env.Ingest(key, "esp", `data=%7B%22event%22%3A%22open%22%2C%22event_id%22%3A%22f1%22%2C%22properties%22%3A%7B%22channel%22%3A%22email%22%2C%22msgid%22%3A%22546%22%7D%2C%22user%22%3A%7B%22email%22%3A%22a%40b.com%22%7D%7D`, form)
	require.Equal(t, 200, code, raw)
	code, raw = env.Ingest(key, "esp", "event=click&event_id=f2&email=a%40b.com&channel=email&msgid=546&url=https%3A%2F%2Fshop", form)
	require.Equal(t, 200, code, raw)

	evs := []models.Event{processedEvent(t, env, "f1"), processedEvent(t, env, "f2")}
	require.Equal(t, []string{"open", "click"}, []string{evs[0].Name, evs[1].Name})
	for _, ev := range evs {
		require.Equal(t, "email", ev.Channel)
		require.Equal(t, "546", ev.MsgID)
		require.NotNil(t, ev.ContactID)
	}
	require.Equal(t, "https://shop", evs[1].Properties["url"])
	require.Equal(t, *evs[0].ContactID, *evs[1].ContactID)
}

func TestIngestFindsEmailElsewhere(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	key := env.IngestKey()
	code, _ := env.Ingest(key, "shop", map[string]any{"event": "order", "event_id": "o1", "properties": map[string]any{
		"customer": map[string]any{"contact": "Buyer@Shop.com"}}}, "")
	require.Equal(t, 200, code)
	processedEvent(t, env, "o1")
	c, err := env.Store.FindContact(context.Background(), env.Panel.ID, models.Identity{Email: "buyer@shop.com"})
	require.NoError(t, err)
	require.Equal(t, "buyer@shop.com", c.Attributes["EMAIL"])
}

// The flat event: its top-level email and firstName find or create
// the contact, and its other top-level keys are kept as properties.
func TestIngestTopLevelFieldsNameTheUser(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	key := env.IngestKey()
	code, body := env.Ingest(key, "crm", map[string]any{"event": "Conversion", "event_id": "c1", "email": "a@example.com",
		"firstName": "John", "timestamp": 1528611279398, "value": 42}, "")
	require.Equal(t, 200, code, body)
	ev := processedEvent(t, env, "c1")
	require.NotNil(t, ev.ContactID)
	c, err := env.Store.FindContact(context.Background(), env.Panel.ID, models.Identity{Email: "a@example.com"})
	require.NoError(t, err)
	require.Equal(t, *ev.ContactID, c.ID)
	require.Equal(t, "John", c.Attributes["FIRSTNAME"])
	require.Equal(t, json.Number("42"), ev.Properties["value"], "an unknown top-level key is a property, its number exact")
	require.Equal(t, time.UnixMilli(1528611279398).UTC(), ev.OccurredAt.UTC())

	code, body = env.Ingest(key, "crm", map[string]any{"event": "Conversion", "email": "a@example.com",
		"user": map[string]any{"email": "b@example.com"}}, "")
	require.Equal(t, 400, code)
	require.Contains(t, body, "email and user.email are both given")
}

func TestIngestErrors(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	key := env.IngestKey()
	admin := env.Token
	for _, tc := range []struct {
		name, key, body, ct string
		status              int
		want                string
	}{
		{"no key", "", `{"event": "x"}`, "application/json", 401, `{"error": "Unauthorized"}`},
		{"wrong key", "sk_live_nope", `{"event": "x"}`, "application/json", 401, `{"error": "Unauthorized"}`},
		{"admin token is not an ingest key", admin, `{"event": "x"}`, "application/json", 401, `{"error": "Unauthorized"}`},
		{"not JSON", key, `{"event": `, "application/json", 400, "the body is not JSON"},
		{"no event", key, `{"properties": {}}`, "application/json", 400, "event is required"},
		{"empty event", key, `{"event": "  "}`, "application/json", 400, "event is required"},
		{"event not a string", key, `{"event": 5}`, "application/json", 400, "event is required"},
		{"a number", key, `7`, "application/json", 400, "must be an event object"},
		{"empty array", key, `[]`, "application/json", 400, "no events"},
		{"array of junk", key, `[{"event": "ok"}, "x"]`, "application/json", 400, "event 1 is not an object"},
		{"bad timestamp", key, `{"event": "x", "timestamp": "yesterday"}`, "application/json", 400, "timestamp"},
		{"ancient timestamp", key, `{"event": "x", "timestamp": 1000}`, "application/json", 400, "out of range"},
		{"properties not an object", key, `{"event": "x", "properties": [1]}`, "application/json", 400, "properties must be an object"},
		{"user not an object", key, `{"event": "x", "user": "me"}`, "application/json", 400, "user must be an object"},
		{"bad email", key, `{"event": "x", "user": {"email": "not-an-address"}}`, "application/json", 400, "not an e-mail address"},
		{"form without event", key, `email=a%40b.com`, "application/x-www-form-urlencoded", 400, "event is required"},
		{"too large", key, `{"event": "x", "properties": {"blob": "` + strings.Repeat("a", 1<<20) + `"}}`, "application/json", 413, ""},
	} {
		code, raw := env.Ingest(tc.key, "crm", tc.body, tc.ct)
		require.Equal(t, tc.status, code, "%s: %s", tc.name, raw)
		switch tc.status {
		case 401:
			require.JSONEq(t, tc.want, raw, tc.name)
		case 400:
			require.Contains(t, raw, `"error":"Invalid payload"`, tc.name)
			require.Contains(t, raw, tc.want, tc.name)
		}
	}
	// Too large, by its declared length or found out while reading: one answer.
	huge := `{"event": "x", "properties": {"blob": "` + strings.Repeat("a", 1<<20) + `"}}`
	for _, body := range []any{huge, strings.NewReader(huge)} {
		code, raw := env.Ingest(key, "crm", body, "application/json")
		require.Equal(t, 413, code, raw)
		require.JSONEq(t, `{"error": "Payload too large", "detail": "the body is larger than 1048576 bytes"}`, raw)
	}
	code, raw := env.Ingest(key, "bad source!", `{"event": "x"}`, "application/json")
	require.Equal(t, 400, code, raw)
	require.EqualValues(t, 0, countEvents(t, env), "bad requests stored nothing")

	code, _ = env.Ingest(key, "crm", `{"event": "x"}`, "application/json")
	require.Equal(t, 200, code)
	var keys struct {
		IngestKeys []struct{ ID int64 } `json:"ingest_keys"`
	}
	env.Call("GET", "/api/v1/ingest-keys", nil, &keys)
	require.Len(t, keys.IngestKeys, 1)
	code, _ = env.Call("DELETE", "/api/v1/ingest-keys/"+itoa(keys.IngestKeys[0].ID), nil, nil)
	require.Equal(t, 204, code)
	code, _ = env.Ingest(key, "crm", `{"event": "x"}`, "application/json")
	require.Equal(t, 401, code, "a revoked key is refused at once")
}

func TestIngestRateLimit(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, IngestRateLimit: 3})
	key := env.IngestKey()
	for i := range 3 {
		code, _ := env.Ingest(key, "crm", map[string]any{"event": "x", "event_id": i}, "")
		require.Equal(t, 200, code)
	}
	code, raw := env.Ingest(key, "crm", map[string]any{"event": "x", "event_id": 99}, "")
	require.Equal(t, 429, code)
	require.JSONEq(t, `{"error": "Rate limit exceeded"}`, raw)
	require.EqualValues(t, 3, countEvents(t, env), "the refused request stored nothing")

	// A panel cannot raise its own limit past the deployment's: the
	// request is refused and changes nothing, and a value stored before
	// this rule counts as the deployment's.
	code, raw = env.Call("PATCH", "/api/v1/settings", map[string]any{"ingest_rate_limit": 1000}, nil)
	require.Equal(t, 400, code, raw)
	require.JSONEq(t, `{"error": "must be between 1 and 3 requests a minute (the most this deployment allows a panel)", "field": "ingest_rate_limit"}`, raw)
	var settings struct {
		IngestRateLimit int `json:"ingest_rate_limit"`
	}
	env.Call("GET", "/api/v1/settings", nil, &settings)
	require.Equal(t, 3, settings.IngestRateLimit)
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE panels SET ingest_rate_limit = 1000 WHERE id = ?`, env.Panel.ID).Error)
	code, _ = env.Ingest(key, "crm", map[string]any{"event": "x", "event_id": 100}, "")
	require.Equal(t, 429, code, "a stored limit above the deployment's counts as the deployment's")
	env.Call("GET", "/api/v1/settings", nil, &settings)
	require.Equal(t, 3, settings.IngestRateLimit)
}

// A panel may lower its own ingest limit.
func TestIngestRateLimitLoweredByThePanel(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, IngestRateLimit: 5})
	key := env.IngestKey()
	code, raw := env.Call("PATCH", "/api/v1/settings", map[string]any{"ingest_rate_limit": 2}, nil)
	require.Equal(t, 200, code, raw)
	require.Contains(t, raw, `"ingest_rate_limit":2`)
	for i := range 2 {
		code, raw := env.Ingest(key, "crm", map[string]any{"event": "x", "event_id": i}, "")
		require.Equal(t, 200, code, raw)
	}
	code, _ = env.Ingest(key, "crm", map[string]any{"event": "x", "event_id": 2}, "")
	require.Equal(t, 429, code)
}

// An event naming a known contact by its external id, with an e-mail that
// another contact holds, is processed: the e-mail stays with that other
// contact. (The contact took the e-mail too, its save broke the e-mail's
// uniqueness, and the event's batch failed on every retry, holding up its
// partition's later events.)
func TestIngestProcessesAnEventWhoseEmailAnotherContactHolds(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	key := env.IngestKey()
	for _, ev := range []map[string]any{
		{"event": "signup", "event_id": "h1", "user": map[string]any{"external_id": "ann"}},
		{"event": "open", "event_id": "h2", "user": map[string]any{"email": "ann@example.com"}},
	} {
		code, raw := env.Ingest(key, "crm", ev, "")
		require.Equal(t, 200, code, raw)
		processedEvent(t, env, ev["event_id"].(string))
	}
	code, raw := env.Ingest(key, "crm", map[string]any{"event": "order", "event_id": "h3",
		"user": map[string]any{"external_id": "ann", "email": "ann@example.com"}}, "")
	require.Equal(t, 200, code, raw)
	ev := processedEvent(t, env, "h3")
	ann := processedEvent(t, env, "h1")
	require.Equal(t, *ann.ContactID, *ev.ContactID, "matched by external id first")
	c, err := env.Store.ContactByID(context.Background(), env.Panel.ID, *ev.ContactID)
	require.NoError(t, err)
	require.Nil(t, c.Email, "the e-mail stays with the contact that holds it")
}
