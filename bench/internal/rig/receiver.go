// Package rig is what make bench and make chaos share: a loopback receiver
// that counts what Herald delivers, Herald processes started from the
// binary, and a client of Herald's APIs.
package rig

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Receiver is a loopback webhook endpoint. It counts the items it gets,
// once per key (a repeat is a duplicate), and records each item's latency
// from the moment the load generator stamped it. It can play a slow or a
// failing endpoint.
type Receiver struct {
	srv      *http.Server
	URL      string
	Requests atomic.Int64 // requests answered 200
	Items    atomic.Int64 // distinct items received

	delay  atomic.Int64 // ns each request waits before answering
	status atomic.Int32 // answer instead of 200 when set

	mu        sync.Mutex
	latencies []time.Duration
	seen      map[string]bool
	dups      int64
	last      time.Time
}

// NewReceiver listens on a free loopback port.
func NewReceiver() (*Receiver, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Receiver{URL: "http://" + l.Addr().String(), seen: map[string]bool{}}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// SetDelay makes every request wait d before it is answered: a slow
// endpoint, or with d beyond Herald's HTTP timeout, one that times out.
func (r *Receiver) SetDelay(d time.Duration) { r.delay.Store(int64(d)) }

// SetStatus makes the receiver answer status without counting anything;
// 0 goes back to 200.
func (r *Receiver) SetStatus(status int) { r.status.Store(int32(status)) }

// item is what the receiver reads of an item. Its key is chaos_id in
// payload_params when there is one (the event it came from), else its
// delivery id; its stamp is sent_ns, at the top (deliveries API) or in
// payload_params (an event through a journey).
type item struct {
	DeliveryID    string `json:"delivery_id"`
	SentNS        int64  `json:"sent_ns"`
	PayloadParams struct {
		SentNS  int64  `json:"sent_ns"`
		ChaosID string `json:"chaos_id"`
	} `json:"payload_params"`
}

func (it *item) key() string {
	if it.PayloadParams.ChaosID != "" {
		return it.PayloadParams.ChaosID
	}
	return it.DeliveryID
}

func (it *item) sent() int64 { return max(it.SentNS, it.PayloadParams.SentNS) }

// ServeHTTP answers a status set by SetStatus without reading the items
// (a broken endpoint); otherwise it counts the items, then waits the delay
// set by SetDelay before it answers 200: an endpoint that processed the
// batch but answers too late makes Herald send it again, as it must.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if s := r.status.Load(); s != 0 {
		w.WriteHeader(int(s))
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var doc map[string][]item
	if err := json.Unmarshal([]byte(form.Get("data")), &doc); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.record(doc)
	if d := time.Duration(r.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-req.Context().Done():
			return
		}
	}
	r.Requests.Add(1)
	w.WriteHeader(http.StatusOK)
}

func (r *Receiver) record(doc map[string][]item) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, items := range doc {
		for _, it := range items {
			if it.sent() == 0 { // an activation test
				continue
			}
			k := it.key()
			if r.seen[k] {
				r.dups++
				continue
			}
			r.seen[k] = true
			r.Items.Add(1)
			r.latencies = append(r.latencies, now.Sub(time.Unix(0, it.sent())))
			r.last = now
		}
	}
}

// Seen reports whether the item with key k has arrived.
func (r *Receiver) Seen(k string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[k]
}

// Duplicates is how many items arrived again after their first time.
func (r *Receiver) Duplicates() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dups
}

// Last is when the latest new item arrived.
func (r *Receiver) Last() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// Percentiles returns p50, p95 and p99 of the latencies, in ms.
func (r *Receiver) Percentiles() (p50, p95, p99 float64) {
	r.mu.Lock()
	l := slices.Clone(r.latencies)
	r.mu.Unlock()
	if len(l) == 0 {
		return 0, 0, 0
	}
	slices.Sort(l)
	at := func(q float64) float64 {
		return float64(l[min(len(l)-1, int(q*float64(len(l))))].Microseconds()) / 1000
	}
	return at(0.50), at(0.95), at(0.99)
}

// Close stops the receiver.
func (r *Receiver) Close() { _ = r.srv.Close() }
