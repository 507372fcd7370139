package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// deliveryForm is the webhook form of a webhook made by ActiveWebhook
// (no auth, no headers), with its delivery settings.
func deliveryForm(label, target string) url.Values {
	return url.Values{
		"label": {label}, "description": {""}, "url": {target}, "method": {"POST"},
		"basic_auth_username": {""}, "basic_auth_password": {""}, "batch_size": {"100"}, "batch_wait": {"1"},
		"max_attempts": {"12"}, "give_up_after": {"90m"}, "rate_limit_per_s": {"5"}, "max_body_bytes": {"65536"},
		"auto_probe_minutes": {"15"}, "health_degraded_failure_rate": {""}, "health_degraded_min_attempts": {""},
		"health_window": {"30m"}, "health_pause_after_failures": {"3"}, "health_disable_after": {""},
	}
}

// The webhook form edits the delivery settings the API accepts, by the
// API's rules: a refused value is named at its field with the API's words,
// and nothing changes.
//
//nolint:paralleltest // the subtests post with one session, whose stash holds one refused form at a time
func TestUIWebhookDeliverySettings(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	id := env.ActiveWebhook("Orders", recv.URL, nil)
	path := "/webhooks/" + itoa(id)

	edit := ui.Get(path + "/edit")
	require.Equal(t, http.StatusOK, edit.Status)
	for _, want := range []string{`name="max_attempts" type="number" min="1" max="30" required value="9"`,
		`name="give_up_after" required spellcheck="false" placeholder="72h" value="72h"`, `name="health_window"`, `name="auto_probe_minutes"`} {
		require.Contains(t, edit.Body, want)
	}

	for _, tc := range []struct {
		name, field, value, errFor string
		api                        any // the same value in the API's body
	}{
		{"attempts over 30", "max_attempts", "31", "max_attempts", 31},
		{"attempts not a number", "max_attempts", "many", "max_attempts", nil},
		{"give-up time not a duration", "give_up_after", "soon", "give_up_after", "soon"},
		{"give-up time too short", "give_up_after", "30s", "give_up_after", "30s"},
		{"negative rate", "rate_limit_per_s", "-1", "rate_limit_per_s", -1},
		{"request too small", "max_body_bytes", "100", "max_body_bytes", 100},
		{"probe too rare", "auto_probe_minutes", "2000", "auto_probe_minutes", 2000},
		{"window too short", "health_window", "5s", "health_settings", map[string]any{"window": "5s"}},
		{"rate over 1", "health_degraded_failure_rate", "2", "health_settings", map[string]any{"degraded_failure_rate": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := deliveryForm("Orders", recv.URL)
			form.Set(tc.field, tc.value)
			res := ui.Submit(path, form)
			require.Equal(t, http.StatusBadRequest, res.Status, res.Body)
			require.Regexp(t, fmt.Sprintf(`data-error-for="%s" >[^<]+</p>`, tc.errFor), res.Body)
			if tc.api != nil {
				key := tc.field
				if tc.errFor == "health_settings" {
					key = "health_settings"
				}
				var apiErr struct{ Error, Field string }
				code, raw := env.Call("PATCH", "/api/v1"+path, map[string]any{key: tc.api}, &apiErr)
				require.Equal(t, http.StatusBadRequest, code, raw)
				require.Equal(t, tc.errFor, apiErr.Field)
				// The page shows the API's message, as a sentence.
				require.Contains(t, res.Body, apiErr.Error[1:], "the UI and the API say the same")
			}
			var w map[string]any
			code, raw := env.Call("GET", "/api/v1"+path, nil, &w)
			require.Equal(t, http.StatusOK, code, raw)
			require.EqualValues(t, 9, w["max_attempts"], "nothing changed")
		})
	}

	res := ui.Submit(path, deliveryForm("Orders", recv.URL))
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, "12 requests per delivery, none scheduled after 1h30m")
	require.Contains(t, res.Body, "every 15 minutes while disabled")
	require.Contains(t, res.Body, "paused after 3 failures")
	var w struct {
		Status           string
		MaxAttempts      int             `json:"max_attempts"`
		GiveUpAfter      string          `json:"give_up_after"`
		RateLimitPerS    int             `json:"rate_limit_per_s"`
		MaxBodyBytes     int             `json:"max_body_bytes"`
		AutoProbeMinutes int             `json:"auto_probe_minutes"`
		HealthSettings   json.RawMessage `json:"health_settings"`
	}
	code, raw := env.Call("GET", "/api/v1"+path, nil, &w)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "active", w.Status, "delivery settings need no new test")
	require.Equal(t, 12, w.MaxAttempts)
	require.Equal(t, "1h30m0s", w.GiveUpAfter)
	require.Equal(t, 5, w.RateLimitPerS)
	require.Equal(t, 65536, w.MaxBodyBytes)
	require.Equal(t, 15, w.AutoProbeMinutes)
	require.JSONEq(t, `{"window": "30m0s", "pause_after_failures": 3}`, string(w.HealthSettings))

	// The form shows them back; blank thresholds inherit the panel's again.
	edit = ui.Get(path + "/edit")
	require.Contains(t, edit.Body, `id="health_window" name="health_window" spellcheck="false" placeholder="10m" value="30m"`)
	form := deliveryForm("Orders", recv.URL)
	form.Set("health_window", "")
	form.Set("health_pause_after_failures", "")
	require.Equal(t, http.StatusOK, ui.Submit(path, form).Status)
	code, raw = env.Call("GET", "/api/v1"+path, nil, &w)
	require.Equal(t, http.StatusOK, code, raw)
	require.JSONEq(t, `{}`, string(w.HealthSettings))
}

// A webhook's page lists the journeys with a step that sends to it, and
// only those of its panel.
func TestUIWebhookUsedInJourneys(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true})
	recv := apptest.NewReceiver(t)
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	used := env.ActiveWebhook("Used", recv.URL, nil)
	unused := env.ActiveWebhook("Unused", recv.URL, map[string]any{"subscriptions": []map[string]any{{"event": "NEW_VISIT"}}})
	journey := func(name string, hook int64) int64 {
		var j struct{ ID int64 }
		code, raw := env.Call("POST", "/api/v1/journeys", fmt.Sprintf(`{"name": %q, "nodes": [
			{"id": "t", "type": "trigger", "event": "open", "next": "h"},
			{"id": "h", "type": "webhook", "webhook_id": %d, "next": "s"}, {"id": "s", "type": "stop"}]}`, name, hook), &j)
		require.Equal(t, http.StatusCreated, code, raw)
		return j.ID
	}
	welcome := journey("Welcome", used)
	journey("Winback", used)
	code, raw := env.Call("POST", "/api/v1/journeys", `{"name": "Elsewhere", "nodes": [
		{"id": "t", "type": "trigger", "event": "open", "next": "s"}, {"id": "s", "type": "stop"}]}`, nil)
	require.Equal(t, http.StatusCreated, code, raw)

	page := ui.Get("/webhooks/" + itoa(used))
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, fmt.Sprintf(`<a href="/journeys/%d">Welcome</a> <span class="badge`, welcome))
	require.Contains(t, page.Body, ">Winback</a>")
	require.NotContains(t, page.Body, ">Elsewhere</a>")

	page = ui.Get("/webhooks/" + itoa(unused))
	require.Contains(t, page.Body, "No journey has a step that sends here.")
	require.Contains(t, page.Body, `subscribes to (<span class="mono">NEW_VISIT</span>)`)

	// Another panel's journey on an id that happens to match is not listed.
	rival := env.TokenFor("rival")
	code, raw = env.CallAs(rival, "POST", "/api/v1/journeys", fmt.Sprintf(`{"name": "Rival journey", "nodes": [
		{"id": "t", "type": "trigger", "event": "open", "next": "h"},
		{"id": "h", "type": "webhook", "webhook_id": %d, "next": "s"}, {"id": "s", "type": "stop"}]}`, used), nil)
	require.Equal(t, http.StatusCreated, code, raw)
	require.NotContains(t, ui.Get("/webhooks/"+itoa(used)).Body, "Rival journey")
}
