package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models/modeltest"
)

// getWithToken answers the status and body of GET url, with a Bearer
// token when one is given; status 0 when nothing answers yet.
func getWithToken(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// With HERALD_METRICS_LISTEN set, serve answers /metrics there only, with
// the token when one is set, and not on the listener the users reach.
func TestServeMetricsOnItsOwnListener(t *testing.T) {
	t.Parallel()
	_, dbURL := modeltest.DB(t)
	listen, metricsListen := freeAddr(t), freeAddr(t)
	vars := map[string]string{
		"HERALD_ENV": "production", "HERALD_DATABASE_URL": dbURL, "HERALD_REDIS_URL": modeltest.RedisURL(),
		"HERALD_NAMESPACE": modeltest.Namespace(t), "HERALD_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HERALD_LISTEN": listen, "HERALD_METRICS_LISTEN": metricsListen, "HERALD_METRICS_TOKEN": "metrics-secret",
		"HERALD_LOG_LEVEL": "warn",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer // slog serialises its writes; read only after run returns
	go func() { done <- run(ctx, []string{"serve"}, env(vars), io.Discard, &logs) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	// Both listeners answering is the signal that serve is up.
	require.Eventually(t, func() bool {
		code, _ := getWithToken(t, "http://"+listen+"/healthz", "")
		mcode, _ := getWithToken(t, "http://"+metricsListen+"/metrics", "")
		return code == http.StatusOK && mcode != 0
	}, 20*time.Second, 20*time.Millisecond)

	code, _ := getWithToken(t, "http://"+listen+"/metrics", "metrics-secret")
	require.Equal(t, http.StatusNotFound, code, "not on the main listener, even with the token")
	code, _ = getWithToken(t, "http://"+metricsListen+"/metrics", "")
	require.Equal(t, http.StatusUnauthorized, code, "the token guards the metrics listener too")
	code, _ = getWithToken(t, "http://"+metricsListen+"/metrics", "wrong")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body := getWithToken(t, "http://"+metricsListen+"/metrics", "metrics-secret")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "go_goroutines")
}
