// Package apptest runs a whole Herald for end-to-end tests: the HTTP
// server, a worker and the reconciler, on a fresh PostgreSQL database and
// its own Redis namespace, with loopback receivers that answer on command.
package apptest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/heraldhq/herald/app"
	"github.com/heraldhq/herald/jobs"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/egress"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// Options adjust an Env; zero values take test-friendly defaults.
type Options struct {
	// RedisURL defaults to the shared test Redis (modeltest.RedisURL).
	RedisURL string
	// RetrySchedule defaults to 50 ms, 100 ms, 200 ms.
	RetrySchedule []time.Duration
	// Lease of a claimed batch; default 2 s.
	Lease time.Duration
	// HTTPTimeout of outbound requests; default 2 s.
	HTTPTimeout time.Duration
	// HoldUnrecorded is how long requests made from one claim may go
	// unrecorded, and StopGrace how long a request in flight may go on
	// once the worker stops (delivery.Config); default the worker's.
	HoldUnrecorded, StopGrace time.Duration
	// Budget bounds one flush task's loop (delivery.Config); default the
	// worker's.
	Budget time.Duration
	// NoWorker starts no worker; call StartWorker when needed.
	NoWorker bool
	// AdminRateLimit is requests per minute per panel; default 600.
	AdminRateLimit int
	// AuthRateLimit is token lookups per minute per client address
	// (app.Config.AuthRateLimit); default 600.
	AuthRateLimit int
	// IngestRateLimit is ingest requests per minute per panel; default 1000.
	IngestRateLimit int
	// Mail sends alert e-mail; nil sends none.
	Mail *mail.Config
	// MetricsToken guards /metrics.
	MetricsToken string
	// LoginRateLimit is UI sign-in attempts per minute per address; default 20.
	LoginRateLimit int
	// UIRateLimit is UI requests per minute per session or address; default 600.
	UIRateLimit int
	// TrustedProxies are the peers whose X-Forwarded-For is believed;
	// none by default.
	TrustedProxies []netip.Prefix
	// WorkerConcurrency is the worker's task slots; default 10.
	WorkerConcurrency int
	// PanelConcurrency is the slots one panel may hold; 0 takes the
	// worker's default (half of them).
	PanelConcurrency int
	// MaxLiveJourneys is the most journeys a panel may have live; 0 sets
	// no bound.
	MaxLiveJourneys int
	// Log receives what Herald logs; nil discards it.
	Log *slog.Logger
	// WrapTransport, when set, wraps the transport of the client that
	// sends deliveries (an egress client, as in production): a test sees
	// or steers a request's end without a receiver of its own.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Env is one running Herald.
type Env struct {
	T          testing.TB
	Store      *models.Store
	URL        string
	Panel      *models.Panel
	Token      string
	Namespace  string
	Enqueuer   *queue.Enqueuer
	Reconciler *jobs.Reconciler
	Engine     *journey.Engine
	Tracker    *health.Tracker
	Prober     *delivery.Prober
	Metrics    *metrics.Metrics
	Redis      *redis.Client

	opts   Options
	sender *delivery.Sender
	queue  *asynq.Client
	redisO asynq.RedisConnOpt

	mu         sync.Mutex
	stopWorker func()
}

// Start runs a Herald for this test; everything stops when the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.RedisURL == "" {
		opts.RedisURL = modeltest.RedisURL()
	}
	if len(opts.RetrySchedule) == 0 {
		opts.RetrySchedule = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	}
	if opts.Lease == 0 {
		opts.Lease = 2 * time.Second
	}
	if opts.HTTPTimeout == 0 {
		opts.HTTPTimeout = 2 * time.Second
	}
	store := modeltest.Store(t)
	ns := modeltest.Namespace(t)
	redisOpt, err := asynq.ParseRedisURI(opts.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	ropt, err := redis.ParseURL(opts.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(ropt)
	client := asynq.NewClient(redisOpt)
	t.Cleanup(func() { _ = client.Close(); _ = rdb.Close() })
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Env{
		T: t, Store: store, Namespace: ns, Redis: rdb, opts: opts, queue: client, redisO: redisOpt,
		sender: &delivery.Sender{
			Client:    egress.NewHTTPClient(egress.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, RequestTimeout: opts.HTTPTimeout}),
			UserAgent: "Herald/test",
			Now:       store.Now,
		},
		Enqueuer: &queue.Enqueuer{Client: client, Inspector: asynq.NewInspector(redisOpt), Namespace: ns, Now: store.Now},
	}
	if opts.WrapTransport != nil {
		if e.sender.Client.Transport == nil {
			t.Fatal("apptest: the egress client has no transport to wrap")
		}
		e.sender.Client.Transport = opts.WrapTransport(e.sender.Client.Transport)
	}
	e.Reconciler = &jobs.Reconciler{Store: store, Enqueuer: e.Enqueuer, Grace: 200 * time.Millisecond, Log: log}
	reg := prometheus.NewRegistry()
	e.Metrics = metrics.New(reg)
	reg.MustRegister(&metrics.Collector{Store: store, Inspector: e.Enqueuer.Inspector, Namespace: ns, Log: log})
	e.Engine = &journey.Engine{Store: store, Enqueuer: e.Enqueuer, Log: log, Metrics: e.Metrics, MaxLiveJourneys: opts.MaxLiveJourneys}
	e.Tracker = &health.Tracker{Store: store, Enqueuer: e.Enqueuer, Log: log, NoMail: opts.Mail == nil}
	e.Prober = &delivery.Prober{Store: store, Sender: e.sender, Tracker: e.Tracker, Enqueuer: e.Enqueuer, Log: log}
	var mailer *mail.Mailer // invitation e-mail, to the same server as the worker's alerts
	if opts.Mail != nil {
		if mailer, err = mail.New(*opts.Mail); err != nil {
			t.Fatal(err)
		}
	}
	srv := app.New(app.Params{Config: app.Config{AdminRateLimit: opts.AdminRateLimit, IngestRateLimit: opts.IngestRateLimit, AuthRateLimit: opts.AuthRateLimit,
		MetricsToken: opts.MetricsToken, LoginRateLimit: opts.LoginRateLimit,
		UIRateLimit: opts.UIRateLimit, TrustedProxies: opts.TrustedProxies},
		Store: store, Sender: e.sender, Enqueuer: e.Enqueuer, Engine: e.Engine, Tracker: e.Tracker,
		Metrics: e.Metrics, Gatherer: reg, Mailer: mailer,
		Limiter: &ratelimit.Limiter{Redis: rdb, Namespace: ns}, Logger: log})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e.URL = hs.URL

	ctx := context.Background()
	if e.Panel, err = store.EnsurePanel(ctx, "acme_prod"); err != nil {
		t.Fatal(err)
	}
	if e.Token, _, err = store.CreateToken(ctx, e.Panel.ID, models.TokenAdmin, ""); err != nil {
		t.Fatal(err)
	}
	if !opts.NoWorker {
		e.StartWorker()
	}
	t.Cleanup(e.StopWorker)
	return e
}

// TokenFor returns an admin token of another panel, created if needed.
func (e *Env) TokenFor(panel string) string {
	e.T.Helper()
	p, err := e.Store.EnsurePanel(context.Background(), panel)
	if err != nil {
		e.T.Fatal(err)
	}
	token, _, err := e.Store.CreateToken(context.Background(), p.ID, models.TokenAdmin, "")
	if err != nil {
		e.T.Fatal(err)
	}
	return token
}

// StartWorker starts a worker (one at a time).
func (e *Env) StartWorker() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopWorker != nil {
		return
	}
	var mailer *mail.Mailer
	if e.opts.Mail != nil {
		var err error
		if mailer, err = mail.New(*e.opts.Mail); err != nil {
			e.T.Fatal(err)
		}
	}
	w := jobs.NewWorker(jobs.WorkerParams{
		Redis: e.redisO, Namespace: e.Namespace, Concurrency: cmp.Or(e.opts.WorkerConcurrency, 10),
		PanelConcurrency: e.opts.PanelConcurrency, Store: e.Store, Sender: e.sender,
		Enqueuer: e.Enqueuer, Limiter: &ratelimit.Limiter{Redis: e.Redis, Namespace: e.Namespace},
		Deliver: delivery.Config{RetrySchedule: e.opts.RetrySchedule, Lease: e.opts.Lease, HoldUnrecorded: e.opts.HoldUnrecorded,
			StopGrace: e.opts.StopGrace, Budget: e.opts.Budget,
			ProbeSchedule: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}},
		Mailer: mailer, PublicURL: "http://herald.test", Metrics: e.Metrics,
		Logger: e.Engine.Log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			e.T.Errorf("worker: %v", err)
		}
	}()
	e.stopWorker = func() { cancel(); <-done }
}

// StopWorker stops the worker as a deployment does: its flushes hand
// their webhooks over (Options.StopGrace), then asynq's shutdown ends.
func (e *Env) StopWorker() {
	e.mu.Lock()
	stop := e.stopWorker
	e.stopWorker = nil
	e.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Reconcile runs one reconciler pass.
func (e *Env) Reconcile() {
	e.T.Helper()
	if err := e.Reconciler.Run(context.Background()); err != nil {
		e.T.Fatalf("reconcile: %v", err)
	}
}

// ReconcileEvery runs the reconciler in the background until the test ends,
// as the scheduler would.
func (e *Env) ReconcileEvery(d time.Duration) {
	e.every(d, func(ctx context.Context) { _ = e.Reconciler.Run(ctx) }) // Redis may be down on purpose
}

// every runs fn every d in the background until the test ends.
func (e *Env) every(d time.Duration, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
	e.T.Cleanup(func() { cancel(); <-done })
}

// Call sends an admin API request as the env's panel and decodes a JSON
// answer into out when out is not nil. It returns the status and raw body.
func (e *Env) Call(method, path string, body, out any) (int, string) {
	return e.CallAs(e.Token, method, path, body, out)
}

// CallAs is Call with another token.
func (e *Env) CallAs(token, method, path string, body, out any) (int, string) {
	e.T.Helper()
	var r io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			e.T.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		e.T.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.T.Fatalf("decode %s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

// ActiveWebhook creates an asset pointing at url with the given extra
// fields, tests it (the receiver must answer 200 to that test) and
// activates it. It returns the asset's id.
func (e *Env) ActiveWebhook(label, url string, fields map[string]any) int64 {
	e.T.Helper()
	body := map[string]any{"label": label, "url": url}
	for k, v := range fields {
		body[k] = v
	}
	var w struct{ ID int64 }
	if code, raw := e.Call("POST", "/api/v1/webhooks", body, &w); code != http.StatusCreated {
		e.T.Fatalf("create webhook: %d %s", code, raw)
	}
	path := "/api/v1/webhooks/" + strconv.FormatInt(w.ID, 10)
	var res struct{ Passed bool }
	if code, raw := e.Call("POST", path+"/test", nil, &res); code != http.StatusOK || !res.Passed {
		e.T.Fatalf("test webhook: %d %s", code, raw)
	}
	if code, raw := e.Call("POST", path+"/activate", nil, nil); code != http.StatusOK {
		e.T.Fatalf("activate webhook: %d %s", code, raw)
	}
	return w.ID
}

// Deliver creates deliveries through the API and returns their ids.
func (e *Env) Deliver(webhookID int64, items ...map[string]any) []string {
	e.T.Helper()
	var out struct {
		DeliveryIDs []string `json:"delivery_ids"`
	}
	code, raw := e.Call("POST", "/api/v1/webhooks/"+strconv.FormatInt(webhookID, 10)+"/deliveries",
		map[string]any{"items": items}, &out)
	if code != http.StatusAccepted {
		e.T.Fatalf("create deliveries: %d %s", code, raw)
	}
	return out.DeliveryIDs
}

// WaitStatus waits until every named delivery has the status.
func (e *Env) WaitStatus(timeout time.Duration, status models.DeliveryStatus, ids ...string) {
	e.T.Helper()
	want := map[uuid.UUID]bool{}
	for _, s := range ids {
		id, err := models.ParseDeliveryID(s)
		if err != nil {
			e.T.Fatal(err)
		}
		want[id] = true
	}
	deadline := time.Now().Add(timeout)
	for {
		var n int64
		keys := make([]uuid.UUID, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		if err := e.Store.DBForTest().Model(&models.Delivery{}).Where("id IN ? AND status = ?", keys, status).Count(&n).Error; err != nil {
			e.T.Fatal(err)
		}
		if int(n) == len(want) {
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out: %d of %d deliveries are %s", n, len(want), status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// AlignToWindow sleeps until just after the start of a batch window, so a
// test's events fall in one window whatever the time it starts at. It is
// the one sleep tests keep (less than one window, 500 ms in its test):
// the test asserts, on the receiver's wall-clock arrival times, that no
// batch leaves before its window ends, so its events must start early in
// a window of the wall clock; moving the store's clock would not move the
// receiver's. The other waits in this package poll the state a test waits
// for (PostgreSQL rows, Redis queues, the receiver), every 20 ms.
func AlignToWindow(window time.Duration) {
	into := time.Duration(time.Now().UnixNano()) % window
	if into > 10*time.Millisecond {
		time.Sleep(window - into + 5*time.Millisecond)
	}
}

// AgreedRecipient adds an alert recipient to a panel, or to one of its
// webhooks, and records its owner's yes as the link mailed to it would:
// for tests about alerts rather than consent. No link is mailed, so the
// test's mail server sees alerts only.
func (e *Env) AgreedRecipient(panelID int64, email string, webhookID *int64) {
	e.T.Helper()
	r, err := e.Store.AddRecipient(context.Background(), panelID, webhookID, email)
	if err != nil {
		e.T.Fatalf("add alert recipient %s: %v", email, err)
	}
	if err := e.Store.DBForTest().Exec(`UPDATE alert_recipients SET confirmed_at = now() WHERE id = ?`, r.ID).Error; err != nil {
		e.T.Fatalf("agree alert recipient %s: %v", email, err)
	}
}

// IngestKey creates an ingest key for the env's panel.
func (e *Env) IngestKey() string {
	e.T.Helper()
	var out struct{ Key string }
	if code, raw := e.Call("POST", "/api/v1/ingest-keys", map[string]any{"label": "test"}, &out); code != http.StatusCreated {
		e.T.Fatalf("create ingest key: %d %s", code, raw)
	}
	return out.Key
}

// Ingest posts a body to the ingest API as JSON (a string body is sent
// as given with contentType, an io.Reader likewise but chunked, with no
// declared length) and returns the status and the answer.
func (e *Env) Ingest(key, source string, body any, contentType string) (int, string) {
	e.T.Helper()
	var r io.Reader
	switch v := body.(type) {
	case string:
		r = strings.NewReader(v)
	case io.Reader:
		r = io.MultiReader(v) // hides the length from http.NewRequest
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			e.T.Fatal(err)
		}
		r = bytes.NewReader(raw)
		contentType = "application/json"
	}
	req, err := http.NewRequest("POST", e.URL+"/v1/webhook/"+source, r)
	if err != nil {
		e.T.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// LiveJourney creates a journey from its JSON and publishes it.
func (e *Env) LiveJourney(def string) int64 {
	e.T.Helper()
	var j struct{ ID int64 }
	if code, raw := e.Call("POST", "/api/v1/journeys", def, &j); code != http.StatusCreated {
		e.T.Fatalf("create journey: %d %s", code, raw)
	}
	if code, raw := e.Call("POST", "/api/v1/journeys/"+strconv.FormatInt(j.ID, 10)+"/publish", nil, nil); code != http.StatusOK {
		e.T.Fatalf("publish journey: %d %s", code, raw)
	}
	return j.ID
}

// SweepEvery runs the sweeps of unprocessed events and lost journey timers
// in the background until the test ends, as the scheduler would.
func (e *Env) SweepEvery(d time.Duration) {
	e.every(d, func(ctx context.Context) {
		_ = e.Engine.SweepEvents(ctx, 100*time.Millisecond)
		_ = e.Engine.SweepRuns(ctx, 100*time.Millisecond)
	})
}

// WaitRuns waits until a journey has n runs in the given status.
func (e *Env) WaitRuns(journeyID int64, status string, n int) {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var runs struct{ Runs []struct{ Status string } }
		e.Call("GET", "/api/v1/journeys/"+strconv.FormatInt(journeyID, 10)+"/runs?status="+status, nil, &runs)
		if len(runs.Runs) == n {
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for %d %s runs of journey %d; have %d", n, status, journeyID, len(runs.Runs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Run is a journey run as GET /api/v1/journeys/{id}/runs shows it.
type Run struct {
	Status         string `json:"status"`
	Node           string `json:"node"`
	AwaitsDelivery string `json:"awaits_delivery"`
	AwaitsStatus   string `json:"awaits_delivery_status"`
}

// WaitRun waits until the journey's only run satisfies cond (what says
// how, for the failure), and returns it.
func (e *Env) WaitRun(journeyID int64, what string, cond func(Run) bool) Run {
	e.T.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var out struct{ Runs []Run }
		e.Call("GET", "/api/v1/journeys/"+strconv.FormatInt(journeyID, 10)+"/runs", nil, &out)
		if len(out.Runs) == 1 && cond(out.Runs[0]) {
			return out.Runs[0]
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for the run to be %s; runs: %+v", what, out.Runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitProcessed waits until every event ingested so far was processed.
func (e *Env) WaitProcessed() {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int64
		if err := e.Store.DBForTest().Raw(`SELECT count(*) FROM events WHERE processed_at IS NULL`).Scan(&n).Error; err != nil {
			e.T.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out: %d events unprocessed", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitSettled waits until the env's Herald has nothing left to do now:
// every event is processed, no delivery is pending or being sent, no wait
// of a live journey is overdue, and no task of the env's namespace is queued, running or
// waiting to be retried (tasks scheduled for later, such as a long wait's
// timer, do not count). A test asserts that something did not happen
// after this signal: whatever was going to happen by now has happened.
func (e *Env) WaitSettled(timeout time.Duration) {
	e.T.Helper()
	deadline := time.Now().Add(timeout)
	for {
		busy, err := e.busy()
		if err != nil {
			e.T.Fatal(err)
		}
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for Herald to settle: %s", busy)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// busy names what the env's Herald still has to do, or returns "".
func (e *Env) busy() (string, error) {
	var rows struct{ Events, Deliveries, Overdue int64 }
	err := e.Store.DBForTest().Raw(`SELECT
	    (SELECT count(*) FROM events WHERE processed_at IS NULL) AS events,
	    (SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')) AS deliveries,
	    (SELECT count(*) FROM journey_runs r JOIN journeys j ON j.id = r.journey_id
	      WHERE r.status = 'waiting' AND r.wait_until <= $1 AND j.status = 'live') AS overdue`, e.Store.Now()).
		Scan(&rows).Error
	if err != nil {
		return "", err
	}
	switch {
	case rows.Events > 0:
		return fmt.Sprintf("%d events not processed", rows.Events), nil
	case rows.Deliveries > 0:
		return fmt.Sprintf("%d deliveries pending or sending", rows.Deliveries), nil
	case rows.Overdue > 0:
		return fmt.Sprintf("%d runs past their wait", rows.Overdue), nil
	}
	infos, err := e.queueInfos()
	if err != nil {
		return "", err
	}
	for _, info := range infos {
		if n := info.Pending + info.Active + info.Retry; n > 0 {
			return fmt.Sprintf("%d tasks in queue %s", n, info.Queue), nil
		}
	}
	return "", nil
}

// queueInfos reads the env's queues that Redis holds (a queue that never
// had a task, or was flushed away, is not there).
func (e *Env) queueInfos() ([]*asynq.QueueInfo, error) {
	names, err := e.Enqueuer.Inspector.Queues()
	if err != nil {
		return nil, err
	}
	ours := queue.Queues(e.Namespace)
	var out []*asynq.QueueInfo
	for _, q := range names {
		if _, ok := ours[q]; !ok {
			continue
		}
		info, err := e.Enqueuer.Inspector.GetQueueInfo(q)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// QueuedTasks counts the tasks of the env's namespace in Redis in any
// state (waiting, scheduled, running, retrying): zero means no task is
// left that would ever do anything.
func (e *Env) QueuedTasks() int {
	e.T.Helper()
	infos, err := e.queueInfos()
	if err != nil {
		e.T.Fatal(err)
	}
	n := 0
	for _, info := range infos {
		n += info.Pending + info.Active + info.Scheduled + info.Retry
	}
	return n
}

// WaitTaskError waits until the task of the given id (in any queue of the
// env's namespace) has run and failed, and returns its error: the signal
// that a handler looked at its work and put it off.
func (e *Env) WaitTaskError(id string) string {
	e.T.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for q := range queue.Queues(e.Namespace) {
			info, err := e.Enqueuer.Inspector.GetTaskInfo(q, id)
			if err == nil && info.LastErr != "" {
				return info.LastErr
			}
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for task %s to fail", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
