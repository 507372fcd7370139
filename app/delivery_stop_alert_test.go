package app_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/models"
)

// cutAfterAnswer is a transport that, once armed, lets the next 200 be
// read whole and then holds its body's Close until the request's context
// is cut off: the stop (cut) lands after a whole answer and before the
// flush looks at it, every time.
type cutAfterAnswer struct {
	next  http.RoundTripper
	armed *atomic.Bool
	cut   func() // starts the stop; the request's context ends with it
}

func (c cutAfterAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK || !c.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	resp.Body = &closeAfterCut{ReadCloser: resp.Body, req: r, cut: c.cut}
	return resp, nil
}

type closeAfterCut struct {
	io.ReadCloser
	req  *http.Request
	cut  func()
	once sync.Once
}

func (b *closeAfterCut) Close() error {
	b.once.Do(func() {
		go b.cut()
		<-b.req.Context().Done()
	})
	return b.ReadCloser.Close()
}

// A request whose answer came in whole just before a stop cut it off is
// recorded with the alert its answer called for: here the 200 that takes
// the webhook from healthy to degraded (one failure in two requests). The
// cut path recorded the request but dropped its alert.
func TestAWholeAnswerCutOffByAStopKeepsItsAlert(t *testing.T) {
	t.Parallel()
	var armed atomic.Bool
	var started atomic.Pointer[apptest.Env] // read by the worker's goroutine
	stopped := make(chan struct{})
	env := apptest.Start(t, apptest.Options{StopGrace: time.Millisecond, HTTPTimeout: time.Minute, Lease: time.Minute,
		WrapTransport: func(next http.RoundTripper) http.RoundTripper {
			return cutAfterAnswer{next: next, armed: &armed, cut: func() { started.Load().StopWorker(); close(stopped) }}
		}})
	started.Store(env)
	recv := apptest.NewReceiver(t)
	recv.Answer = func(n int, r *apptest.Request) apptest.Answer {
		if !r.Test && n == 1 { // the first request after the activation's test fails
			armed.Store(true)
			return apptest.Answer{Status: http.StatusBadGateway}
		}
		return apptest.Answer{Status: http.StatusOK}
	}
	id := env.ActiveWebhook("Cut Hook", recv.URL, map[string]any{"batch_wait_ms": 0, "batch_size": 1,
		"health_settings": map[string]any{"degraded_min_attempts": 2, "degraded_failure_rate": 0.2}})
	sent := env.Deliver(id, items(1, "cut")...)
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("the retry's answer never came")
	}
	env.WaitStatus(10*time.Second, models.DeliveryDelivered, sent...)
	var alerts struct{ Alerts []struct{ State string } }
	code, raw := env.Call("GET", fmt.Sprintf("/api/v1/alerts?webhook_id=%d", id), nil, &alerts)
	require.Equal(t, http.StatusOK, code, raw)
	require.Len(t, alerts.Alerts, 1, raw)
	require.Equal(t, "degraded", alerts.Alerts[0].State)
}
