package apptest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Request is one request a Receiver got, decoded as a receiver would:
// form-decode the body, then JSON-decode its data field; or, for a JSON
// body, the item or array of items it holds.
type Request struct {
	At     time.Time
	Header http.Header
	Body   []byte
	Panel  string
	Items  []map[string]any
	Status int // what the receiver answered
	Test   bool
}

// DeliveryIDs are the delivery_id of the request's items, in order.
func (r *Request) DeliveryIDs() []string {
	out := make([]string, len(r.Items))
	for i, it := range r.Items {
		out[i], _ = it["delivery_id"].(string)
	}
	return out
}

// Answer is what a Receiver replies.
type Answer struct {
	Status     int
	Delay      time.Duration
	RetryAfter string
	Body       string
	// Hold, when set, keeps the request waiting until it is closed: a
	// request in flight for as long as the test needs.
	Hold <-chan struct{}
}

// Receiver is a loopback endpoint. Answer decides the reply to the n-th
// request (counted from 0, test requests included); by default it is 200.
type Receiver struct {
	*httptest.Server
	Answer func(n int, r *Request) Answer

	mu            sync.Mutex
	reqs          []*Request
	got           chan struct{}
	inFlight, max int
}

// NewReceiver starts a receiver that the test closes.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{got: make(chan struct{}, 1)}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (rc *Receiver) serve(w http.ResponseWriter, hr *http.Request) {
	body, _ := io.ReadAll(hr.Body)
	req := &Request{At: time.Now(), Header: hr.Header.Clone(), Body: body}
	form := hr.URL.Query()
	if hr.Method == http.MethodPost {
		form, _ = url.ParseQuery(string(body))
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal([]byte(form.Get("data")), &doc); err == nil {
		for panel, items := range doc {
			req.Panel, req.Items = panel, items
		}
	}
	if hr.Header.Get("Content-Type") == "application/json" {
		// The json body format: one item, or an array of them.
		var one map[string]any
		if json.Unmarshal(body, &one) == nil {
			req.Items = []map[string]any{one}
		} else {
			_ = json.Unmarshal(body, &req.Items)
		}
	}
	if len(req.Items) > 0 {
		req.Test, _ = req.Items[0]["test"].(bool)
	}
	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, req)
	answer := Answer{Status: http.StatusOK}
	if rc.Answer != nil {
		answer = rc.Answer(n, req)
	}
	req.Status = answer.Status
	rc.inFlight++
	rc.max = max(rc.max, rc.inFlight)
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		rc.inFlight--
		rc.mu.Unlock()
	}()
	if answer.Hold != nil {
		select {
		case <-answer.Hold:
		case <-hr.Context().Done():
		}
	}
	if answer.Delay > 0 {
		select {
		case <-time.After(answer.Delay):
		case <-hr.Context().Done():
		}
	}
	if answer.RetryAfter != "" {
		w.Header().Set("Retry-After", answer.RetryAfter)
	}
	w.WriteHeader(answer.Status)
	_, _ = w.Write([]byte(answer.Body))
	select {
	case rc.got <- struct{}{}:
	default:
	}
}

// Requests returns what arrived so far, test requests excluded.
func (rc *Receiver) Requests() []*Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []*Request
	for _, r := range rc.reqs {
		if !r.Test {
			out = append(out, r)
		}
	}
	return out
}

// All returns every request that arrived, test requests included.
func (rc *Receiver) All() []*Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*Request(nil), rc.reqs...)
}

// Delivered returns the delivery ids of items in requests answered 2xx, in
// arrival order, duplicates included.
func (rc *Receiver) Delivered() []string {
	var out []string
	for _, r := range rc.Requests() {
		if r.Status/100 == 2 {
			out = append(out, r.DeliveryIDs()...)
		}
	}
	return out
}

// MaxConcurrent is the most requests the receiver was serving at once.
func (rc *Receiver) MaxConcurrent() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.max
}

// WaitFor waits until cond holds, checking after every request, or fails
// the test after timeout.
func (rc *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-rc.got:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// WaitDelivered waits until every id has been accepted at least once.
func (rc *Receiver) WaitDelivered(t testing.TB, timeout time.Duration, ids []string) {
	t.Helper()
	rc.WaitFor(t, timeout, "all deliveries", func() bool {
		seen := map[string]bool{}
		for _, id := range rc.Delivered() {
			seen[id] = true
		}
		for _, id := range ids {
			if !seen[id] {
				return false
			}
		}
		return true
	})
}
