package app_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

func scrape(t *testing.T, env *apptest.Env, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", env.URL+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads one sample's value, or -1 when it is absent.
func metric(body, sample string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+]+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{MetricsToken: "scrape-me"})
	recv := apptest.NewReceiver(t)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 {
			return apptest.Answer{Status: 500}
		}
		return apptest.Answer{Status: 200}
	}
	id := env.ActiveWebhook("Measured", recv.URL, map[string]any{"batch_wait_ms": 0})
	key := env.IngestKey()
	ingestOK(t, env, key, []any{map[string]any{"event": "a", "event_id": "1"}, map[string]any{"event": "b", "event_id": "1"}})
	ids := env.Deliver(id, items(3, "m")...)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	code, _ := env.Call("POST", hookPath(id, "/deactivate"), nil, nil)
	require.Equal(t, 200, code)
	env.Deliver(id, items(2, "h")...)
	env.WaitProcessed() // the event is processed by a task of its own; the gauge is read after it

	code, _ = scrape(t, env, "")
	require.Equal(t, http.StatusUnauthorized, code, "the token is required")
	code, body := scrape(t, env, "scrape-me")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1.0, metric(body, `herald_events_ingested_total{result="stored"}`))
	require.Equal(t, 1.0, metric(body, `herald_events_ingested_total{result="duplicate"}`))
	require.Equal(t, 3.0, metric(body, `herald_deliveries_created_total{status="pending"}`))
	require.Equal(t, 2.0, metric(body, `herald_deliveries_created_total{status="held"}`))
	require.Equal(t, 1.0, metric(body, `herald_attempts_total{class="http",outcome="retry"}`))
	require.Equal(t, 1.0, metric(body, `herald_attempts_total{class="",outcome="delivered"}`))
	require.Equal(t, 2.0, metric(body, `herald_attempt_duration_seconds_count{outcome="retry"}`)+
		metric(body, `herald_attempt_duration_seconds_count{outcome="delivered"}`))
	require.Equal(t, 2.0, metric(body, `herald_deliveries{status="held"}`))
	require.Equal(t, 0.0, metric(body, `herald_deliveries{status="pending"}`))
	require.Equal(t, 0.0, metric(body, `herald_deliveries{status="sending"}`), "kept for dashboards, never stored (issue 15)")
	require.Equal(t, 1.0, metric(body, `herald_webhooks{health="healthy",status="inactive"}`))
	require.Equal(t, 0.0, metric(body, `herald_events_unprocessed`))
	require.GreaterOrEqual(t, metric(body, `herald_queue_depth{queue="`+env.Namespace+`:deliver",state="pending"}`), 0.0)
}
