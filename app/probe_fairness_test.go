package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
)

// Automatic probes of one panel's hanging endpoints must not hold back
// another panel's recovery: panels are probed side by side, and one panel
// gets a bounded number of probes a run.
func TestProbesOfOnePanelDoNotHoldBackAnother(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var hangOn atomic.Bool
	var probed atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hangOn.Load() {
			return // the activation test: 200
		}
		probed.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	env := apptest.Start(t, apptest.Options{NoWorker: true, HTTPTimeout: time.Minute})
	var once sync.Once
	stopHanging := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stopHanging) // before the server closes: nothing waits a minute

	noisy := env.TokenFor("noisy")
	var ids []int64
	for _, label := range []string{"n1", "n2", "n3", "n4", "n5", "n6"} {
		var w struct{ ID int64 }
		code, raw := env.CallAs(noisy, "POST", "/api/v1/webhooks", map[string]any{"label": label, "url": hang.URL, "auto_probe_minutes": 1}, &w)
		require.Equal(t, http.StatusCreated, code, raw)
		code, raw = env.CallAs(noisy, "POST", "/api/v1/webhooks/"+itoa(w.ID)+"/test", nil, nil)
		require.Equal(t, http.StatusOK, code, raw)
		ids = append(ids, w.ID)
	}
	recv := apptest.NewReceiver(t)
	victim := env.ActiveWebhook("Victim", recv.URL, map[string]any{"auto_probe_minutes": 1})
	ids = append(ids, victim)
	require.NoError(t, env.Store.DBForTest().Exec(`UPDATE webhooks SET status = 'disabled', disabled_at = now() WHERE id IN ?`, ids).Error)
	hangOn.Store(true)

	done := make(chan error, 1)
	go func() { done <- env.Prober.Run(context.Background()) }()
	recv.WaitFor(t, 10*time.Second, "the victim's probe to re-enable it", func() bool {
		return state(env, victim).Status == "active"
	})
	stopHanging()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the probe run did not end once its endpoints answered")
	}
	require.Equal(t, int32(4), probed.Load(), "the noisy panel gets 4 probes a run, not 6")
}
