package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models/modeltest"
)

// buildHerald builds this binary once per test run.
var buildHerald = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "herald-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "herald")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w: %s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// process is one herald process of the deployment.
type process struct {
	name string
	cmd  *exec.Cmd
	log  bytes.Buffer
}

// Two serve, two worker and two scheduler processes on one PostgreSQL and
// one Redis deliver every event once, run each periodic job on one replica,
// and share the per-panel ingest rate limit.
func TestSeveralReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	t.Parallel()
	bin, err := buildHerald()
	require.NoError(t, err)
	db, dbURL := modeltest.DB(t)
	const metricsToken = "replicas-metrics-token"
	env := []string{
		"HERALD_ENV=production", "HERALD_DATABASE_URL=" + dbURL, "HERALD_REDIS_URL=" + modeltest.RedisURL(),
		"HERALD_NAMESPACE=" + modeltest.Namespace(t), "HERALD_SECRET_KEY=" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HERALD_EGRESS_ALLOW=127.0.0.1/32", "HERALD_INGEST_RATE_LIMIT=1000000", "HERALD_LOG_LEVEL=warn",
		"HERALD_METRICS_TOKEN=" + metricsToken, // production refuses an open /metrics
	}
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		require.NoError(t, err, "herald %v", args)
		return strings.TrimSpace(string(out))
	}
	run("migrate")
	token := run("token", "create", "--panel", "acme_prod")
	key := run("ingest-key", "create", "--panel", "acme_prod")

	var procs []*process
	start := func(name string, extra ...string) *process {
		p := &process{name: name}
		p.cmd = exec.Command(bin, name)
		p.cmd.Env = append(append(os.Environ(), env...), extra...)
		p.cmd.Stdout, p.cmd.Stderr = &p.log, &p.log
		require.NoError(t, p.cmd.Start())
		procs = append(procs, p)
		return p
	}
	t.Cleanup(func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(os.Interrupt)
		}
		for _, p := range procs {
			_ = p.cmd.Wait()
			if t.Failed() {
				t.Logf("%s:\n%s", p.name, p.log.String())
			}
		}
	})
	serves := []string{freeAddr(t), freeAddr(t)}
	schedulerMetrics := []string{freeAddr(t), freeAddr(t)}
	for _, addr := range serves {
		start("serve", "HERALD_LISTEN="+addr, "HERALD_INGEST_RATE_LIMIT=1000000")
	}
	start("worker")
	start("worker")
	for _, addr := range schedulerMetrics {
		start("scheduler", "HERALD_METRICS_LISTEN="+addr)
	}
	for _, addr := range serves {
		require.Eventually(t, func() bool {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				_ = resp.Body.Close()
			}
			return err == nil && resp.StatusCode == 200
		}, 20*time.Second, 50*time.Millisecond)
	}

	recv := apptest.NewReceiver(t)
	apiAs := func(token, addr, method, path string, body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	api := func(addr, method, path string, body any) (int, map[string]any) {
		return apiAs(token, addr, method, path, body)
	}
	code, w := api(serves[0], "POST", "/api/v1/webhooks", map[string]any{"label": "Replicated", "url": recv.URL, "batch_size": 20, "batch_wait_ms": 200})
	require.Equal(t, 201, code)
	hook := int64(w["id"].(float64))
	code, _ = api(serves[1], "POST", fmt.Sprintf("/api/v1/webhooks/%d/test", hook), nil)
	require.Equal(t, 200, code)
	code, _ = api(serves[0], "POST", fmt.Sprintf("/api/v1/webhooks/%d/activate", hook), nil)
	require.Equal(t, 200, code)
	code, j := api(serves[1], "POST", "/api/v1/journeys", map[string]any{"name": "Every order", "reentry": "always", "nodes": []map[string]any{
		{"id": "t", "type": "trigger", "event": "order", "next": "h"},
		{"id": "h", "type": "webhook", "webhook_id": hook, "event_params": []string{"email"}, "next": "s"},
		{"id": "s", "type": "stop"}}})
	require.Equal(t, 201, code)
	code, _ = api(serves[0], "POST", fmt.Sprintf("/api/v1/journeys/%d/publish", int64(j["id"].(float64))), nil)
	require.Equal(t, 200, code)

	// 600 events, through both serve replicas, from 6 clients.
	const clients, perClient, perRequest = 6, 10, 10
	var wg sync.WaitGroup
	var sent atomic.Int64
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range perClient {
				evs := make([]map[string]any, perRequest)
				for i := range evs {
					n := (c*perClient+r)*perRequest + i
					evs[i] = map[string]any{"event": "order", "event_id": strconv.Itoa(n),
						"user": map[string]any{"email": fmt.Sprintf("u%d@example.com", n%50)}}
				}
				raw, _ := json.Marshal(evs)
				req, _ := http.NewRequest("POST", "http://"+serves[(c+r)%2]+"/v1/webhook/shop", bytes.NewReader(raw))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					t.Errorf("ingest: %v %v", err, resp)
					return
				}
				_ = resp.Body.Close()
				sent.Add(perRequest)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, clients*perClient*perRequest, sent.Load())
	recv.WaitFor(t, 60*time.Second, "every event", func() bool { return len(recv.Delivered()) >= int(sent.Load()) })
	// Every send precedes the row's completion, so once no event or
	// delivery is left to do, a duplicate would have arrived.
	require.Eventually(t, func() bool {
		var left int64
		err := db.Raw(`SELECT (SELECT count(*) FROM events WHERE processed_at IS NULL)
		                    + (SELECT count(*) FROM deliveries WHERE status <> 'delivered')`).Scan(&left).Error
		return err == nil && left == 0
	}, 30*time.Second, 20*time.Millisecond)
	seen := map[string]int{}
	for _, id := range recv.Delivered() {
		seen[id]++
	}
	require.Len(t, seen, int(sent.Load()), "every event delivered")
	for id, n := range seen {
		require.Equal(t, 1, n, "delivered once, as one process would: %s", id)
	}
	require.Equal(t, 1, recv.MaxConcurrent(), "one request in flight per webhook across two workers")

	// Periodic jobs: one scheduler leads and runs them; the other runs none.
	var runs []float64
	require.Eventually(t, func() bool {
		runs, err = reconcileRuns(schedulerMetrics, metricsToken)
		return err == nil && runs[0]+runs[1] > 0
	}, 30*time.Second, 100*time.Millisecond, "a reconcile period passes")
	require.NoError(t, err)
	require.NotEqual(t, runs[0] > 0, runs[1] > 0, "exactly one scheduler runs the reconciler: %v", runs)

	// The ingest rate limit is shared: 10 a minute for a panel, across both
	// serve replicas. A panel that neither replica has seen yet, so that no
	// replica's few seconds of memory of the panel's settings is in play.
	limitedToken := run("token", "create", "--panel", "acme_limited")
	limitedKey := run("ingest-key", "create", "--panel", "acme_limited")
	code, _ = apiAs(limitedToken, serves[0], "PATCH", "/api/v1/settings", map[string]any{"ingest_rate_limit": 10})
	require.Equal(t, 200, code)
	accepted := 0
	for i := range 30 {
		req, _ := http.NewRequest("POST", "http://"+serves[i%2]+"/v1/webhook/shop", strings.NewReader(`{"event": "ping"}`))
		req.Header.Set("Authorization", "Bearer "+limitedKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		if resp.StatusCode == 200 {
			accepted++
		}
	}
	require.LessOrEqual(t, accepted, 11, "two replicas share one budget of 10 a minute")
	require.GreaterOrEqual(t, accepted, 10)
}

// reconcileRuns reads each scheduler's count of reconcile runs from its
// /metrics.
func reconcileRuns(schedulerMetrics []string, metricsToken string) ([]float64, error) {
	var runs []float64
	for _, addr := range schedulerMetrics {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+metricsToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s/metrics: %s", addr, resp.Status)
		}
		m := regexp.MustCompile(`herald_periodic_job_runs_total\{job="reconcile-deliveries"\} (\d+)`).FindSubmatch(body)
		n := 0.0
		if m != nil {
			n, _ = strconv.ParseFloat(string(m[1]), 64)
		}
		runs = append(runs, n)
	}
	return runs, nil
}
