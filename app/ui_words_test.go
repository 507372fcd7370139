package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// uiJourney creates a journey through the API and returns its builder path.
func uiJourney(t *testing.T, env *apptest.Env, def string) string {
	t.Helper()
	var created struct{ ID int64 }
	code, raw := env.Call("POST", "/api/v1/journeys", def, &created)
	require.Equal(t, http.StatusCreated, code, raw)
	return "/journeys/" + itoa(created.ID)
}

// storedJourney reads a journey's reentry and wait period through the API.
func storedJourney(t *testing.T, env *apptest.Env, path, node string) (reentry, within string) {
	t.Helper()
	var j struct {
		Reentry string
		Nodes   []struct{ ID, Within string }
	}
	code, raw := env.Call("GET", "/api/v1"+path, nil, &j)
	require.Equal(t, http.StatusOK, code, raw)
	for _, n := range j.Nodes {
		if n.ID == node {
			within = n.Within
		}
	}
	return j.Reentry, within
}

// nudge is a journey named name: open → send → wait for a click → stop.
func nudge(name string) string {
	return strings.Replace(nudgeJourney, "Nudge", name, 1)
}

const nudgeJourney = `{"name": "Nudge", "nodes": [
  {"id": "start", "type": "trigger", "event": "open", "channel": "email", "next": "a"},
  {"id": "a", "type": "action", "channel": "email", "message_name": "Welcome", "next": "w"},
  {"id": "w", "type": "wait_for_event", "event": "click", "channel": "email", "of_node": "a", "within": "1h", "happened": "s", "timeout": "s"},
  {"id": "s", "type": "stop"}]}`

// A wait's period and the re-entry delay are typed as a number and a unit,
// converted to the API's Go duration on the server; what cannot be one is
// refused at its field, shown as typed, and changes nothing stored.
func TestUIJourneyDurations(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)

	page := ui.Get(uiJourney(t, env, nudgeJourney) + "?step=w").Body
	require.Contains(t, page, `id="within_number" name="within_number" inputmode="decimal" required value="1"`, "the stored 1h, pre-filled")
	require.Contains(t, page, `<option value="hours" selected>hours</option>`)

	wait := func(number, unit string) url.Values {
		return url.Values{"event": {"click"}, "channel": {"email"}, "of_node": {"a"}, "within_number": {number}, "within_unit": {unit},
			"happened": {"s"}, "timeout": {"s"}}
	}
	for _, tc := range []struct{ name, number, unit, stored, words string }{
		{"wait in minutes", "30", "minutes", "30m", "Wait up to 30 minutes for click on Email"},
		{"wait in decimal hours", "1.5", "hours", "1h30m", "Wait up to 90 minutes for click on Email"},
		{"wait in days", "2", "days", "48h", "Wait up to 2 days for click on Email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ui := env.SignIn(uiEmail, uiPassword) // a session, so a stashed form, of its own
			path := uiJourney(t, env, nudge(tc.name))
			res := ui.Submit(path+"/steps/w", wait(tc.number, tc.unit))
			require.Equal(t, http.StatusOK, res.Status, res.Body)
			_, within := storedJourney(t, env, path, "w")
			require.Equal(t, tc.stored, within)
			require.Contains(t, res.Body, tc.words)
		})
	}
	for _, tc := range []struct{ name, number, unit, msg string }{
		{"wait of zero", "0", "minutes", "Must be more than 0 (at least 1 second)."},
		{"negative wait", "-3", "hours", "Must be more than 0 (at least 1 second)."},
		{"too long a wait", "91", "days", "Must be at most 90 days."},
		{"wait not a number", "abc", "minutes", "Must be a number, such as 30 or 1.5."},
		{"wait in no unit", "5", "fortnights", "Pick a unit: seconds, minutes, hours or days."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ui := env.SignIn(uiEmail, uiPassword) // a session, so a stashed form, of its own
			path := uiJourney(t, env, nudge(tc.name))
			res := ui.Submit(path+"/steps/w", wait(tc.number, tc.unit))
			require.Equal(t, http.StatusBadRequest, res.Status)
			require.Contains(t, res.Body, `data-error-for="within" >`+tc.msg+`</p>`)
			require.Contains(t, res.Body, `name="within_number" inputmode="decimal" required value="`+tc.number+`"`, "shown as typed")
			_, within := storedJourney(t, env, path, "w")
			require.Equal(t, "1h", within, "nothing stored")
			require.Contains(t, res.Body, "Wait up to 1 hour for click on Email", "the summary tells what is stored")
		})
	}

	settings := func(name, number, unit string) url.Values {
		return url.Values{"name": {name}, "reentry": {"after"}, "reentry_after_number": {number}, "reentry_after_unit": {unit}}
	}
	t.Run("re-entry in days", func(t *testing.T) {
		t.Parallel()
		ui := env.SignIn(uiEmail, uiPassword)
		path := uiJourney(t, env, nudge("re-entry in days"))
		res := ui.Submit(path, settings("re-entry in days", "2", "days"))
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		reentry, _ := storedJourney(t, env, path, "w")
		require.Equal(t, "after:48h", reentry)
		require.Contains(t, res.Body, `id="reentry_after_number" name="reentry_after_number" inputmode="decimal" required value="2"`)
		require.Contains(t, res.Body, `<option value="days" selected>days</option>`)
	})
	for _, tc := range []struct{ name, number, unit, msg string }{
		{"re-entry of zero", "0", "days", "Must be more than 0 (at least 1 second)."},
		{"negative re-entry", "-1", "hours", "Must be more than 0 (at least 1 second)."},
		{"too long a re-entry", "3651", "days", "Must be at most 3650 days."},
		{"re-entry not a number", "a day", "days", "Must be a number, such as 30 or 1.5."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ui := env.SignIn(uiEmail, uiPassword) // a session, so a stashed form, of its own
			path := uiJourney(t, env, nudge(tc.name))
			res := ui.Submit(path, settings(tc.name, tc.number, tc.unit))
			require.Equal(t, http.StatusBadRequest, res.Status)
			require.Contains(t, res.Body, `data-error-for="reentry" >`+tc.msg+`</p>`)
			require.Contains(t, res.Body, `name="reentry_after_number" inputmode="decimal" required value="`+tc.number+`"`)
			require.Contains(t, res.Body, `<option value="after" selected>after a while</option>`, "the choice stays as made")
			reentry, _ := storedJourney(t, env, path, "w")
			require.Equal(t, "never", reentry, "nothing stored")
		})
	}
}

// Drop-downs and summaries name steps by what they do; the values sent
// stay the steps' ids.
func TestUIJourneyStepLabels(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	path := uiJourney(t, env, nudgeJourney)

	page := ui.Get(path + "?step=w").Body
	require.Contains(t, page, `<option value="start" >Trigger: Email open</option>`)
	require.Contains(t, page, `<option value="a" selected>Send a message: “Welcome” by Email</option>`)
	require.Contains(t, page, `<option value="s" selected>Stop</option>`)
	require.Contains(t, page, "Wait up to 1 hour for click on Email of the message sent by Send a message: “Welcome” by Email")
	require.Contains(t, page, `then → <a href="#step-w">Wait for event: Email click</a>`)
	require.NotContains(t, page, `>start</option>`)
	require.NotContains(t, page, `>a</option>`)
}

// The builder offers the names of this panel's recent activities (the
// trigger's and a wait's activity) and of their properties (filter rows)
// as it is typed in: the most frequent first, then the usual ones; never
// another panel's, and only from the last seven days.
func TestUIJourneyRecentEventPicker(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	env.User(uiEmail, uiPassword)
	ctx := context.Background()
	rival, err := env.Store.EnsurePanel(ctx, "rival")
	require.NoError(t, err)
	rivalKey, _, err := env.Store.CreateToken(ctx, rival.ID, models.TokenIngest, "rival")
	require.NoError(t, err)
	key := env.IngestKey()
	for i, ev := range []map[string]any{
		{"event": "Added to Cart", "properties": map[string]any{"sku": "A1", "cart_total": 10}},
		{"event": "Added to Cart", "properties": map[string]any{"sku": "B2"}},
		{"event": "Viewed Pricing", "properties": map[string]any{"page": "/pricing"}},
	} {
		ev["event_id"], ev["user"] = "e"+itoa(int64(i)), map[string]any{"email": "a@example.com"}
		ingestOK(t, env, key, ev)
	}
	code, raw := env.Ingest(rivalKey, "crm", map[string]any{"event": "Rival Secret", "properties": map[string]any{"rival_prop": 1},
		"user": map[string]any{"email": "r@example.com"}}, "")
	require.Equal(t, http.StatusOK, code, raw)
	path := uiJourney(t, env, nudgeJourney)
	datalist := func(page, id string) string {
		_, after, ok := strings.Cut(page, `<datalist id="`+id+`">`)
		require.True(t, ok, "no datalist %s", id)
		list, _, _ := strings.Cut(after, "</datalist>")
		return list
	}

	ui := env.SignIn(uiEmail, uiPassword)
	for _, step := range []string{"start", "w"} {
		page := ui.Get(path + "?step=" + step).Body
		require.True(t, strings.HasPrefix(datalist(page, "events"),
			`<option value="Added to Cart"><option value="Viewed Pricing"><option value="delivered"><option value="open">`), step)
		require.Contains(t, page, `name="event" list="events"`)
		props := datalist(page, "filter-names")
		require.True(t, strings.HasPrefix(props, `<option value="sku"><option value="cart_total"><option value="page"><option value="EMAIL">`), props)
		require.NotContains(t, page, "Rival Secret", "another panel's events are never offered")
		require.NotContains(t, page, "rival_prop")
	}
	list := ui.Get("/journeys").Body
	require.True(t, strings.HasPrefix(datalist(list, "events"), `<option value="Added to Cart"><option value="Viewed Pricing">`),
		"the new journey's trigger too")
	require.NotContains(t, list, "Rival Secret")

	env.Store.Clock.Advance(8 * 24 * time.Hour)
	ui = env.SignIn(uiEmail, uiPassword)
	page := ui.Get(path + "?step=start").Body
	require.True(t, strings.HasPrefix(datalist(page, "events"), `<option value="delivered">`), "a week on, only the usual names")
	require.NotContains(t, datalist(page, "filter-names"), "sku")
}

// The webhook form takes its batch wait in seconds (decimals allowed) and
// keeps milliseconds, as the API does; a refused one is named at its field.
func TestUIWebhookBatchWaitInSeconds(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	asScript := http.Header{"Accept": {"application/json"}}

	for _, tc := range []struct{ name, typed, msg string }{
		{"negative", "-1", "Must be between 0 and 300 seconds"},
		{"too large", "300.5", "Must be between 0 and 300 seconds"},
		{"not a number", "half", "Must be a number of seconds, such as 1 or 0.5"},
		{"finer than a millisecond", "0.0001", "Must be whole milliseconds (at most 3 decimals)"},
		{"empty", "", "Type a number of seconds (0 sends at once)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ui := env.SignIn(uiEmail, uiPassword) // a session, so a stashed form, of its own
			form := webhookForm("Waits", recv.URL)
			form.Set("batch_wait", tc.typed)
			res := ui.Submit("/webhooks", form)
			require.Equal(t, http.StatusBadRequest, res.Status)
			require.Contains(t, res.Body, `data-error-for="batch_wait" >`+tc.msg+`</p>`)
			require.Contains(t, res.Body, `name="batch_wait" inputmode="decimal" required value="`+tc.typed+`"`, "shown as typed")
			res = ui.Post("/webhooks/test", form, asScript)
			require.Equal(t, http.StatusBadRequest, res.Status)
			require.Contains(t, res.Body, `"field":"batch_wait"`)
		})
	}

	ui := env.SignIn(uiEmail, uiPassword)
	form := webhookForm("Waits", recv.URL)
	form.Set("batch_wait", "0.5")
	require.Equal(t, http.StatusOK, ui.Post("/webhooks/test", form, asScript).Status)
	res := ui.Post("/webhooks", form, asScript)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var saved struct{ Redirect string }
	require.NoError(t, json.Unmarshal([]byte(res.Body), &saved))
	var w struct {
		BatchWaitMS int `json:"batch_wait_ms"`
	}
	env.Call("GET", "/api/v1"+saved.Redirect, nil, &w)
	require.Equal(t, 500, w.BatchWaitMS, "the API keeps milliseconds")
	require.Contains(t, ui.Get(saved.Redirect+"/edit").Body, `name="batch_wait" inputmode="decimal" required value="0.5"`)
	require.Contains(t, ui.Get(saved.Redirect).Body, "waiting up to 0.5 seconds")
}

// A time the webhook page shows is in the panel's zone, UTC on hover: the
// health card's next retry, the log's "next at" and its column heading.
func TestUIWebhookTimesInPanelZone(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	hook := env.ActiveWebhook("Orders", recv.URL, map[string]any{"batch_wait_ms": 0})
	ids := env.Deliver(hook, map[string]any{"order": 1})
	require.Len(t, ids, 1)
	retry := env.Store.Now().Add(time.Hour).Truncate(time.Minute)
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE deliveries SET attempts = 1, next_attempt_at = ? WHERE webhook_id = ?`,
		retry, hook).Error)
	code, raw := env.Call("PATCH", "/api/v1/settings", map[string]any{"time_zone": "Asia/Kolkata"}, nil)
	require.Equal(t, http.StatusOK, code, raw)

	page := env.SignIn(uiEmail, uiPassword).Get("/webhooks/" + itoa(hook)).Body
	utc := retry.UTC().Format("2006-01-02 15:04:05") + " UTC"
	ist := retry.In(time.FixedZone("IST", 5*3600+1800)).Format("15:04") + " IST"
	require.Contains(t, page, `data-next-retry><time datetime="`+retry.UTC().Format(time.RFC3339)+`" title="`+utc+`">`+ist+`</time></dd>`)
	require.Contains(t, page, `next at <time datetime="`+retry.UTC().Format(time.RFC3339)+`" title="`+utc+`">`+ist+`</time>`)
	require.Contains(t, page, `<th scope="col">Created (Asia/Kolkata)</th>`)
	require.NotContains(t, page, `(UTC)</th>`)
}

// The payload's timestamp and ts are UTC, as the README's example reads
// (ingested 1669996085 is sent as 2022-12-02T15:48:05 and 221202154805),
// whatever the panel's time zone; the UI says so where it is chosen.
func TestPayloadTimesStayUTCInAnyPanelZone(t *testing.T) {
	t.Parallel()
	env, recv, key, hook := journeyEnv(t, apptest.Options{})
	code, raw := env.Call("PATCH", "/api/v1/settings", map[string]any{"time_zone": "Asia/Kolkata"}, nil)
	require.Equal(t, http.StatusOK, code, raw)
	path := uiJourney(t, env, `{"name": "Stamped", "nodes": [
	  {"id": "start", "type": "trigger", "event": "Added to Cart", "next": "hook"},
	  {"id": "hook", "type": "webhook", "webhook_id": `+itoa(hook)+`, "event_params": ["timestamp", "ts"], "next": "end"},
	  {"id": "end", "type": "stop"}]}`)
	code, raw = env.Call("POST", "/api/v1"+path+"/publish", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	ingestOK(t, env, key, map[string]any{"event": "Added to Cart", "event_id": "tz-1", "timestamp": 1669996085,
		"user": map[string]any{"email": "tz@example.com"}})
	recv.WaitFor(t, 10*time.Second, "the webhook", func() bool { return len(recv.Delivered()) == 1 })
	params := recv.Requests()[0].Items[0]["event_params"]
	require.Equal(t, map[string]any{"timestamp": "2022-12-02T15:48:05", "ts": float64(221202154805)}, params)

	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	require.Contains(t, ui.Get(path+"?step=hook").Body, "are the event's time in UTC, whatever the panel's time zone")
	require.Contains(t, ui.Get("/settings").Body, "webhook payloads keep their times in UTC")
}
