package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Made-up tokens from one address cost the database a lookup each, so
// they are limited per address (AuthRateLimit): past the limit the ingest
// and admin APIs answer 429 with Retry-After and look nothing up. A live
// token the server has just seen is answered from its cache and spends
// nothing, so the integration keeps working while someone floods from its
// address.
func TestTokenLookupsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{NoWorker: true, AuthRateLimit: 3})
	key := env.IngestKey()
	fake := key[:len(key)-4] + "zzzz"
	event := `{"event": "x"}`

	code, raw := env.Ingest(key, "shop", event, "application/json") // a lookup
	require.Equal(t, http.StatusOK, code, raw)
	// The made-up ones: 401 while the budget lasts (a replica takes its
	// share of it in grants, so not exactly 3), then 429.
	var resp *http.Response
	for n := 0; ; n++ {
		require.Less(t, n, 10, "no 429 after 10 made-up tokens with a limit of 3")
		req, err := http.NewRequest("POST", env.URL+"/v1/webhook/shop", strings.NewReader(event))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+fake)
		req.Header.Set("Content-Type", "application/json")
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		if resp.StatusCode != http.StatusUnauthorized {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))

	code, raw = env.CallAs("adm_madeup0000000000000000000000", "GET", "/api/v1/webhooks", nil, nil)
	require.Equal(t, http.StatusTooManyRequests, code, "the admin API spends the same budget: %s", raw)

	code, raw = env.Ingest(key, "shop", event, "application/json")
	require.Equal(t, http.StatusOK, code, "the live key, just seen, is not looked up: %s", raw)
}
