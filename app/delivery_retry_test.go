package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

type attemptList struct {
	Attempts []struct {
		Outcome    string
		StatusCode int    `json:"status_code"`
		ErrorClass string `json:"error_class"`
		Error      string
		BatchID    string `json:"batch_id"`
	}
}

// failFirst answers the first k delivery requests with a, then 200. The
// activation test request (counted as request 0) is always accepted.
func failFirst(k int, a apptest.Answer) func(int, *apptest.Request) apptest.Answer {
	return func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n <= k {
			return a
		}
		return apptest.Answer{Status: 200}
	}
}

func TestRetriesThenDelivers(t *testing.T) {
	t.Parallel()
	for name, fail := range map[string]apptest.Answer{
		"500":     {Status: 500},
		"503":     {Status: 503},
		"429":     {Status: 429},
		"408":     {Status: 408},
		"timeout": {Status: 200, Delay: time.Second}, // longer than the 300 ms timeout below
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := apptest.Start(t, apptest.Options{HTTPTimeout: 300 * time.Millisecond})
			recv := apptest.NewReceiver(t)
			recv.Answer = failFirst(2, fail)
			id := env.ActiveWebhook("Flaky", recv.URL, map[string]any{"batch_wait_ms": 0})
			ids := env.Deliver(id, items(2, name)...)
			env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)

			reqs := recv.Requests()
			require.Len(t, reqs, 3, "two failures, then the retry that succeeds")
			for _, r := range reqs {
				require.Equal(t, ids, r.DeliveryIDs(), "every retry carries the same batch")
				require.Equal(t, reqs[0].Header.Get("webhook-id"), r.Header.Get("webhook-id"))
			}
			var list attemptList
			env.Call("GET", hookPath(id, "/attempts"), nil, &list)
			require.Len(t, list.Attempts, 3)
			require.Equal(t, "delivered", list.Attempts[0].Outcome, "newest first")
			require.Equal(t, "retry", list.Attempts[1].Outcome)
			require.Equal(t, "retry", list.Attempts[2].Outcome)
			if name == "timeout" {
				require.Equal(t, "timeout", list.Attempts[2].ErrorClass)
			} else {
				require.Equal(t, fail.Status, list.Attempts[2].StatusCode)
			}
		})
	}
}

func TestClientErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	recv.Answer = failFirst(100, apptest.Answer{Status: 400})
	id := env.ActiveWebhook("Picky", recv.URL, map[string]any{"batch_wait_ms": 0})
	ids := env.Deliver(id, items(3, "x")...)
	env.WaitStatus(10*time.Second, models.DeliveryFailed, ids...)

	// Once Herald has nothing left to do, a retry would have come.
	env.WaitSettled(10 * time.Second)
	require.Len(t, recv.Requests(), 1, "a 400 is not retried")
	var list struct {
		Deliveries []struct {
			Status         string
			LastStatusCode int    `json:"last_status_code"`
			LastError      string `json:"last_error"`
		}
	}
	env.Call("GET", hookPath(id, "/deliveries?status=failed"), nil, &list)
	require.Len(t, list.Deliveries, 3)
	require.Equal(t, 400, list.Deliveries[0].LastStatusCode)
	require.Equal(t, "HTTP 400", list.Deliveries[0].LastError)

	// Replay all failed: the receiver has been fixed.
	recv.Answer = nil
	var replay struct{ Replayed int }
	code, _ := env.Call("POST", hookPath(id, "/replay"), nil, &replay)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 3, replay.Replayed)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	require.Equal(t, ids, recv.Delivered())

	// Replay one delivered delivery by id.
	code, _ = env.Call("POST", hookPath(id, "/replay"), map[string]any{"delivery_ids": ids[1:2]}, &replay)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1, replay.Replayed)
	recv.WaitFor(t, 10*time.Second, "the replayed delivery", func() bool { return len(recv.Delivered()) == 4 })
	require.Equal(t, ids[1], recv.Delivered()[3])

	code, _ = env.Call("POST", hookPath(id, "/replay"), map[string]any{"delivery_ids": []string{"nope"}}, nil)
	require.Equal(t, http.StatusBadRequest, code)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	recv.Answer = failFirst(1, apptest.Answer{Status: 429, RetryAfter: "2"})
	id := env.ActiveWebhook("Throttled", recv.URL, map[string]any{"batch_wait_ms": 0})
	ids := env.Deliver(id, items(1, "r")...)
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, ids...)
	reqs := recv.Requests()
	require.Len(t, reqs, 2)
	// The schedule alone would retry after 50 ms; the receiver asked for 2 s.
	require.GreaterOrEqual(t, reqs[1].At.Sub(reqs[0].At), 2*time.Second)
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	recv.Answer = failFirst(1000, apptest.Answer{Status: 502})
	id := env.ActiveWebhook("Down", recv.URL, map[string]any{"batch_wait_ms": 0, "max_attempts": 3})
	ids := env.Deliver(id, items(1, "g")...)
	env.WaitStatus(10*time.Second, models.DeliveryFailed, ids...)
	require.Len(t, recv.Requests(), 3)
	var list attemptList
	env.Call("GET", hookPath(id, "/attempts"), nil, &list)
	require.Equal(t, "failed", list.Attempts[0].Outcome)
}

// Batches reach a webhook in creation order, failures and retries included:
// a batch that waits out a backoff holds back everything newer.
func TestOrderWithinWebhook(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Options{})
	recv := apptest.NewReceiver(t)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		// Slow enough that overlapping requests would be seen; every
		// third request fails.
		if !r.Test && n%3 == 1 {
			return apptest.Answer{Status: 500, Delay: 20 * time.Millisecond}
		}
		return apptest.Answer{Status: 200, Delay: 20 * time.Millisecond}
	}
	id := env.ActiveWebhook("Ordered", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 4})
	var ids []string
	for i := range 10 {
		ids = append(ids, env.Deliver(id, items(3, string(rune('a'+i)))...)...)
	}
	env.WaitStatus(20*time.Second, models.DeliveryDelivered, ids...)
	require.Equal(t, ids, recv.Delivered(), "accepted in creation order, each once")
	require.Equal(t, 1, recv.MaxConcurrent(), "one request in flight per webhook")
}
