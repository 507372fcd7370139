package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// The panel's time zone: UTC by default, an IANA name set through the API
// or the settings page, refused (and left as it was) when unknown, and
// used by the pages for the times they show.
func TestPanelTimeZone(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	var got struct {
		TimeZone string `json:"time_zone"`
	}
	code, raw := env.Call("GET", "/api/v1/settings", nil, &got)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "UTC", got.TimeZone)

	t.Run("refused", func(t *testing.T) { // returns once its parallel cases are done
		for _, tc := range []struct{ name, zone string }{{"unknown", "Mars/Olympus"}, {"empty", ""}, {"the server's", "Local"}} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				code, raw := env.Call("PATCH", "/api/v1/settings", map[string]any{"time_zone": tc.zone}, nil)
				require.Equal(t, http.StatusBadRequest, code, raw)
				require.Contains(t, raw, `"field":"time_zone"`)
			})
		}
	})
	env.Call("GET", "/api/v1/settings", nil, &got)
	require.Equal(t, "UTC", got.TimeZone, "a refused zone changes nothing")

	code, raw = env.Call("PATCH", "/api/v1/settings", map[string]any{"time_zone": "Asia/Kolkata"}, &got)
	require.Equal(t, http.StatusOK, code, raw)
	require.Equal(t, "Asia/Kolkata", got.TimeZone)

	// The pages show times in it, UTC on hover; the settings page changes it.
	key := env.IngestKey()
	ingestOK(t, env, key, map[string]any{"event": "Viewed", "timestamp": 1669996085, "user": map[string]any{"email": "tz@example.com"}})
	env.User(uiEmail, uiPassword)
	ui := env.SignIn(uiEmail, uiPassword)
	require.Eventually(t, func() bool {
		return !strings.Contains(ui.Get("/contacts?q=tz@example.com").Body, "No contact")
	}, 10*time.Second, 20*time.Millisecond)
	page := ui.Get("/contacts?q=tz@example.com").Body
	require.Contains(t, page, `title="2022-12-02 15:48:05 UTC">2022-12-02 21:18:05 IST</time>`)

	res := ui.Post("/settings/time-zone", url.Values{"time_zone": {"Nowhere/Land"}}, nil)
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Contains(t, res.Body, "Not a known time zone")
	res = ui.Post("/settings/time-zone", url.Values{"time_zone": {"Europe/Paris"}}, nil)
	require.Equal(t, http.StatusSeeOther, res.Status, res.Body)
	page = ui.Get("/contacts?q=tz@example.com").Body
	require.Contains(t, page, `title="2022-12-02 15:48:05 UTC">2022-12-02 16:48:05 CET</time>`)
}
