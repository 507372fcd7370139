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

// Panels whose endpoints all hang must not starve another panel: with 4
// worker slots and the default share, panel A's four hanging webhooks hold
// at most half of them, panel C's four at most a third, and panel B's
// deliveries arrive within seconds, not after their requests time out.
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
	waitHanging := func(n int) {
		for range n {
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("the hanging requests never started")
			}
		}
	}
	waitHanging(2) // A's requests are in flight: as many as its share lets it start
	tokenC := env.TokenFor("panel_c")
	for _, label := range []string{"c1", "c2", "c3", "c4"} {
		id := activeWebhookAs(t, env, tokenC, label, hang.URL+"/"+label)
		code, raw := env.CallAs(tokenC, "POST", "/api/v1/webhooks/"+itoa(id)+"/deliveries", map[string]any{"items": []map[string]any{{"n": 1}}}, nil)
		require.Equal(t, http.StatusAccepted, code, raw)
	}
	waitHanging(1) // C's, within its smaller share

	tokenB := env.TokenFor("panel_b")
	id := activeWebhookAs(t, env, tokenB, "b", fast.URL+"/b")
	var out struct {
		DeliveryIDs []string `json:"delivery_ids"`
	}
	code, raw := env.CallAs(tokenB, "POST", "/api/v1/webhooks/"+itoa(id)+"/deliveries", map[string]any{"items": []map[string]any{{"n": 1}, {"n": 2}}}, &out)
	require.Equal(t, http.StatusAccepted, code, raw)

	fast.WaitDelivered(t, 5*time.Second, out.DeliveryIDs)
	require.LessOrEqual(t, int(hanging.Load()), 3, "A and C never held more than their shares of the 4 slots")
}

// activeWebhookAs creates, tests and activates a webhook of the token's
// panel with no batch wait.
func activeWebhookAs(t *testing.T, env *apptest.Env, token, label, url string) int64 {
	t.Helper()
	var w struct{ ID int64 }
	code, raw := env.CallAs(token, "POST", "/api/v1/webhooks", map[string]any{"label": label, "url": url, "batch_wait_ms": 0}, &w)
	require.Equal(t, http.StatusCreated, code, raw)
	path := "/api/v1/webhooks/" + itoa(w.ID)
	code, raw = env.CallAs(token, "POST", path+"/test", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	code, raw = env.CallAs(token, "POST", path+"/activate", nil, nil)
	require.Equal(t, http.StatusOK, code, raw)
	return w.ID
}
