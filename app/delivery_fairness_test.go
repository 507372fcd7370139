package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// A panel whose endpoints all hang must not starve another panel: with 4
// worker slots and the default share, panel A's four hanging webhooks hold
// at most half of them, and panel B's deliveries arrive within seconds,
// not after A's requests time out.
func TestHangingPanelDoesNotStarveAnother(t *testing.T) {
	t.Parallel()
	// Endpoints that answer the test and then hang until the test ends.
	release := make(chan struct{})
	var hanging atomic.Int32
	got := make(chan struct{}, 16)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); strings.Contains(string(body), "%22test%22%3Atrue") {
			return // the test request: 200
		}
		hanging.Add(1)
		got <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close) // registered first, so it runs after the worker stops

	env := apptest.Start(t, apptest.Options{WorkerConcurrency: 4, HTTPTimeout: time.Minute, Lease: 2 * time.Minute})
	t.Cleanup(func() { close(release) }) // runs before the worker stops, so nothing waits a minute
	fast := apptest.NewReceiver(t)

	for _, label := range []string{"a1", "a2", "a3", "a4"} {
		id := env.ActiveWebhook(label, hang.URL+"/"+label, map[string]any{"batch_wait_ms": 0})
		env.Deliver(id, map[string]any{"n": 1})
	}
	// A's requests are in flight: as many as its share lets it start.
	for range 2 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("panel A's requests never started")
		}
	}

	tokenB := env.TokenFor("panel_b")
	var w struct{ ID int64 }
	code, raw := env.CallAs(tokenB, "POST", "/api/v1/webhooks", map[string]any{"label": "b", "url": fast.URL + "/b", "batch_wait_ms": 0}, &w)
	require.Equal(t, http.StatusCreated, code, raw)
	path := "/api/v1/webhooks/" + itoa(w.ID)
	code, raw = env.CallAs(tokenB, "POST", path+"/test", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.CallAs(tokenB, "POST", path+"/activate", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	var out struct {
		DeliveryIDs []string `json:"delivery_ids"`
	}
	code, raw = env.CallAs(tokenB, "POST", path+"/deliveries", map[string]any{"items": []map[string]any{{"n": 1}, {"n": 2}}}, &out)
	require.Equal(t, http.StatusAccepted, code, raw)

	fast.WaitDelivered(t, 5*time.Second, out.DeliveryIDs)
	require.LessOrEqual(t, int(hanging.Load()), 2, "panel A never held more than its share of the 4 slots")
}
