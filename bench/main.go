// Command bench measures Herald end to end on this machine: it starts the
// herald binary against a fresh database, drives it from loopback clients
// and counts what loopback receivers get. In the same run it measures the
// baselines that bound it: a plain Go HTTP client posting to the same kind
// of receiver, and asynq running no-op tasks on the same Redis. Every
// scenario's load lasts BENCH_SECONDS.
//
// Output: a table, then one JSON object per scenario on the last lines.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/heraldhq/herald/bench/internal/rig"
)

// result is one scenario's figures; its JSON is the contract of make bench.
type result struct {
	Scenario      string  `json:"scenario"`
	Source        string  `json:"source"`
	Webhooks      int     `json:"webhooks"`
	Created       int64   `json:"created"`
	IngestPerS    float64 `json:"ingest_events_per_s,omitempty"`
	Delivered     int64   `json:"delivered"`
	Duplicates    int64   `json:"duplicates"`
	Lost          int64   `json:"lost"`
	DeliveredPerS float64 `json:"delivered_per_s"`
	RequestsPerS  float64 `json:"requests_per_s"`
	P50MS         float64 `json:"p50_ms"`
	P95MS         float64 `json:"p95_ms"`
	P99MS         float64 `json:"p99_ms"`
	BaselineHTTP  float64 `json:"baseline_http_per_s"`
	// RatioToBaseline is requests/s over the plain client's requests/s.
	RatioToBaseline float64 `json:"ratio_to_baseline"`
	BaselineAsynq   float64 `json:"baseline_asynq_per_s"`
	// RatioToAsynq is delivered events/s over asynq's no-op tasks/s.
	RatioToAsynq float64 `json:"ratio_to_asynq"`
	// BaselinePG is PostgreSQL's single-row INSERT commits/s with 8
	// clients, measured in the same run; RatioToPG is delivered/s over it,
	// the figure that survives a machine slower today than yesterday.
	BaselinePG float64 `json:"baseline_pg_commits_per_s"`
	RatioToPG  float64 `json:"ratio_to_pg_commits"`
	PeakRSSMiB float64 `json:"herald_peak_rss_mib"`
	// CPU seconds per 1,000 delivered events, from the load's start until
	// the outbox drained: Herald's process, and the machine's PostgreSQL.
	HeraldCPUPer1k   float64 `json:"herald_cpu_s_per_1k"`
	PostgresCPUPer1k float64 `json:"postgres_cpu_s_per_1k"`
	// RowWritesPerEvent is the rows Herald's database inserted, updated
	// and deleted (pg_stat_user_tables) per delivered event over the same
	// span: unlike CPU time, the machine's other load does not move it.
	RowWritesPerEvent float64 `json:"pg_row_writes_per_event"`
	// XactsPerEvent is the transactions Herald's database ran per
	// delivered event (pg_stat_database): its round trips, mostly.
	XactsPerEvent float64 `json:"pg_xacts_per_event"`
	// WALBytesPerEvent is the WAL PostgreSQL wrote per delivered event over
	// the same span: what the writes cost in the log (index entries, row
	// versions, full-page images), which the machine's load does not move.
	// It is the server's WAL, so other databases' writes count too.
	WALBytesPerEvent float64 `json:"pg_wal_bytes_per_event"`
	// RSSGrowthMiB is resident memory at the end of the load minus at a
	// quarter of it: memory that grows with events delivered shows here.
	RSSGrowthMiB float64 `json:"herald_rss_growth_mib"`
	Seconds      float64 `json:"seconds"`
	// The slow-endpoint scenario: what the slow endpoint got, and the fast
	// endpoints' delivered/s over the batched scenario's in the same run.
	SlowDelivered int64   `json:"slow_delivered,omitempty"`
	VsBatched     float64 `json:"delivered_vs_batched,omitempty"`
	// The noisy-neighbour scenarios: how many webhooks of another panel
	// hung while this panel's deliveries (p50/p95/p99 above) went out.
	NoisyWebhooks int `json:"noisy_webhooks,omitempty"`
}

// scenario is one way of loading Herald.
type scenario struct {
	name      string
	source    string // "ingest": events through one journey per webhook; "api": the deliveries API
	webhooks  int
	batchSize int
	waitMS    int
	perCall   int // events or items per request
	clients   int
	rate      int  // events/s of all clients together; 0: as fast as they go
	slow      bool // one more webhook, answering after 2 s, gets a trickle
	// noisy is how many webhooks of another panel hang past Herald's HTTP
	// timeout, each with a delivery a second, while this panel's load runs.
	noisy int
	env   []string // more of Herald's environment
}

var scenarios = []scenario{
	{name: "batched", source: "ingest", webhooks: 10, batchSize: 100, waitMS: 1000, perCall: 100, clients: 8},
	{name: "batched-steady", source: "ingest", webhooks: 10, batchSize: 100, waitMS: 1000, perCall: 100, clients: 8, rate: 2400},
	{name: "single-event", source: "ingest", webhooks: 10, batchSize: 100, waitMS: 1000, perCall: 1, clients: 16},
	{name: "unbatched", source: "ingest", webhooks: 20, batchSize: 1, waitMS: 0, perCall: 100, clients: 4},
	{name: "webhooks-1000", source: "ingest", webhooks: 1000, batchSize: 100, waitMS: 1000, perCall: 10, clients: 8, rate: 2000},
	{name: "slow-endpoint", source: "ingest", webhooks: 10, batchSize: 100, waitMS: 1000, perCall: 100, clients: 8, slow: true},
	{name: "api-batched", source: "api", webhooks: 10, batchSize: 100, waitMS: 1000, perCall: 100, clients: 8},
	{name: "api-single", source: "api", webhooks: 10, batchSize: 1, waitMS: 0, perCall: 1, clients: 16},
	// As many hanging webhooks of panel A as a worker has slots (the
	// default 50): panel B's latency shows whether A can starve it; the
	// uncapped run lets one panel hold every slot, as before the cap.
	{name: "noisy-neighbour", source: "api", webhooks: 10, batchSize: 100, waitMS: 0, perCall: 10, clients: 4, rate: 1000, noisy: 50},
	{name: "noisy-neighbour-uncapped", source: "api", webhooks: 10, batchSize: 100, waitMS: 0, perCall: 10, clients: 4, rate: 1000, noisy: 50,
		env: []string{"HERALD_PANEL_CONCURRENCY=50"}},
}

const (
	users     = 5000                   // distinct contacts the ingest scenarios' events name
	slowDelay = 2 * time.Second        // how long the slow endpoint takes to answer
	slowRate  = 20                     // events/s the slow endpoint's journey gets
	drainMax  = 120 * time.Second      // how long to wait for the outbox to drain
	baseFor   = 5 * time.Second        // how long each baseline runs, at most
	slowEvent = "Bench Event for slow" // the slow endpoint's journey's event
	hangFor   = 2 * time.Minute        // beyond Herald's HTTP timeout (30 s): a hanging endpoint
	statsLag  = 3 * time.Second        // the last completions commit after the receiver has their items; counters follow within a second
)

// config is the bench's environment.
type config struct {
	bin, adminURL, redisURL string
	db                      string // the database each scenario recreates
	dur                     time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	seconds, err := strconv.Atoi(rig.EnvOr("BENCH_SECONDS", "10"))
	if err != nil || seconds < 1 {
		fail(fmt.Errorf("BENCH_SECONDS must be a whole number of seconds, at least 1"))
	}
	cfg := config{bin: rig.EnvOr("HERALD_BIN", "bin/herald"),
		adminURL: rig.EnvOr("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		redisURL: rig.EnvOr("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"), db: rig.EnvOr("BENCH_DB", "herald_bench"),
		dur: time.Duration(seconds) * time.Second}
	want := map[string]bool{}
	for _, s := range strings.Split(os.Getenv("BENCH_SCENARIOS"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			want[s] = true
		}
	}

	base := min(cfg.dur, baseFor)
	fmt.Fprintf(os.Stderr, "bench: baseline: plain Go HTTP client (%v)\n", base)
	httpBase, err := baselineHTTP(ctx, base, 16)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "bench: baseline: asynq no-op tasks (%v)\n", base)
	asynqBase, err := baselineAsynq(ctx, cfg.redisURL, base, 16)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "bench: baseline: PostgreSQL single-row commits, 8 clients (%v)\n", base)
	pgBase, err := baselinePG(ctx, cfg.adminURL, base, 8)
	if err != nil {
		fail(err)
	}
	var results []result
	var batched float64
	for _, sc := range scenarios {
		if len(want) > 0 && !want[sc.name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: scenario %s (%v of load)\n", sc.name, cfg.dur)
		r, err := runScenario(ctx, cfg, sc)
		if err != nil {
			fail(fmt.Errorf("%s: %w", sc.name, err))
		}
		r.BaselineHTTP, r.BaselineAsynq = httpBase, asynqBase
		r.RatioToBaseline = ratio(r.RequestsPerS, httpBase)
		r.RatioToAsynq = ratio(r.DeliveredPerS, asynqBase)
		r.BaselinePG, r.RatioToPG = round(pgBase), ratio(r.DeliveredPerS, pgBase)
		if sc.name == "batched" {
			batched = r.DeliveredPerS
		}
		if sc.slow {
			r.VsBatched = ratio(r.DeliveredPerS, batched)
		}
		results = append(results, r)
	}
	var waits *waitsResult
	if len(want) == 0 || want["waits-1m"] {
		fmt.Fprintf(os.Stderr, "bench: scenario waits-1m (BENCH_WAITS contacts into a 30-day wait)\n")
		w, err := runWaits(ctx, cfg)
		if err != nil {
			fail(fmt.Errorf("waits-1m: %w", err))
		}
		waits = &w
	}
	if len(results) > 0 {
		report(results)
	}
	if waits != nil {
		fmt.Printf("waits-1m: %d waiting runs (set up in %.0f s): Redis %.0f bytes, PostgreSQL %.0f bytes (journey_runs) / %.0f bytes (whole database) per waiting run\n",
			waits.WaitingRuns, waits.SetupS, waits.RedisBytesPerWait, waits.PGRunsBytesPerWait, waits.PGDatabaseBytesPerWait)
		fmt.Printf("waits-1m timers: %d deadlines at %d/s: lateness p50 %.0f ms, p99 %.0f ms, max %.0f ms; %d in one second: all moved %.1f s after it began (p99 lateness %.0f ms); Redis peak +%d bytes\n",
			waits.SpreadRuns, spreadPerS, waits.SpreadP50LatenessMS, waits.SpreadP99LatenessMS, waits.SpreadMaxLatenessMS,
			waits.BurstRuns, waits.BurstDoneS, waits.BurstP99LatenessMS, waits.RedisPeakGrowthBytes)
		b, _ := json.Marshal(waits)
		fmt.Println(string(b))
	}
}

func report(results []result) {
	// tabwriter holds the table until Flush, which reports a failing stdout.
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintln(tw, "scenario\twebhooks\tcreated\tingest/s\tdelivered\tdup\tlost\tdelivered/s\trequests/s\tp50 ms\tp95 ms\tp99 ms\t"+
		"req/s÷http\tdelivered/s÷asynq\tpeak MiB\tgrowth MiB\tHerald CPU s/1k\tPostgreSQL CPU s/1k\t")
	for _, r := range results {
		_, _ = fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%d\t%d\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.3f\t%.3f\t%.0f\t%.1f\t%.3f\t%.3f\t\n",
			r.Scenario, r.Webhooks, r.Created, r.IngestPerS, r.Delivered, r.Duplicates, r.Lost, r.DeliveredPerS,
			r.RequestsPerS, r.P50MS, r.P95MS, r.P99MS, r.RatioToBaseline, r.RatioToAsynq, r.PeakRSSMiB, r.RSSGrowthMiB,
			r.HeraldCPUPer1k, r.PostgresCPUPer1k)
	}
	if err := tw.Flush(); err != nil {
		fail(err)
	}
	if len(results) > 0 {
		fmt.Printf("baselines: plain Go HTTP client %.0f requests/s, asynq %.0f no-op tasks/s, PostgreSQL %.0f single-row commits/s (8 clients)\n",
			results[0].BaselineHTTP, results[0].BaselineAsynq, results[0].BaselinePG)
	}
	for _, r := range results {
		if r.NoisyWebhooks > 0 {
			fmt.Printf("%s: this panel's p99 %.0f ms while %d endpoints of another panel hung\n", r.Scenario, r.P99MS, r.NoisyWebhooks)
		}
		if r.Scenario == "slow-endpoint" {
			fmt.Printf("slow-endpoint: the slow endpoint got %d events; the fast ones delivered %.3f× the batched scenario's events/s\n",
				r.SlowDelivered, r.VsBatched)
		}
	}
	for _, r := range results {
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
	}
}

// runScenario starts Herald, creates the webhooks and journeys, drives load
// for cfg.dur, waits for the outbox to drain and reports.
func runScenario(ctx context.Context, cfg config, sc scenario) (result, error) {
	res := result{Scenario: sc.name, Source: sc.source, Webhooks: sc.webhooks}
	fast, err := rig.NewReceiver()
	if err != nil {
		return res, err
	}
	defer fast.Close()
	slow, err := rig.NewReceiver()
	if err != nil {
		return res, err
	}
	defer slow.Close()
	d, herald, dbURL, stop, err := startHerald(ctx, cfg, strings.ReplaceAll(sc.name, "-", "_"), sc.env)
	if err != nil {
		return res, err
	}
	defer stop()
	api := rig.NewAPI(d, 64)
	hooks, err := setup(api, sc, fast.URL)
	if err != nil {
		return res, err
	}
	key, err := d.Run(ctx, "ingest-key", "create", "--panel", "bench")
	if err != nil {
		return res, err
	}
	if sc.slow {
		id, err := api.ActiveWebhook("bench slow", slow.URL, sc.batchSize, sc.waitMS, nil)
		if err != nil {
			return res, err
		}
		if err := api.Journey(slowEvent, id); err != nil {
			return res, err
		}
		slow.SetDelay(slowDelay) // after its activation test, which must pass
	}
	var noisy []int64
	var noisyAPI *rig.API
	if sc.noisy > 0 {
		token, err := d.Run(ctx, "token", "create", "--panel", "noisy")
		if err != nil {
			return res, err
		}
		noisyAPI = api.As(token)
		for i := range sc.noisy {
			id, err := noisyAPI.ActiveWebhook(fmt.Sprintf("noisy %d", i), slow.URL, 1, 0, nil)
			if err != nil {
				return res, err
			}
			noisy = append(noisy, id)
		}
		slow.SetDelay(hangFor)
		res.NoisyWebhooks = sc.noisy
	}

	writesBefore, err := rig.RowWrites(ctx, dbURL)
	if err != nil {
		return res, err
	}
	walBefore, err := rig.WALPosition(ctx, dbURL)
	if err != nil {
		return res, err
	}
	mem := watchRSS(herald)
	heraldCPU, pgCPU := herald.CPUSeconds(), rig.PostgresCPUSeconds()
	start := time.Now()
	loadCtx, cancel := context.WithTimeout(ctx, cfg.dur)
	defer cancel()
	var created, slowCreated atomic.Int64
	var user atomic.Int64
	gen := &generator{api: api, key: key, sc: sc, hooks: hooks, user: &user}
	var wg sync.WaitGroup
	errs := make(chan error, sc.clients+1)
	for range sc.clients {
		wg.Go(func() { errs <- gen.run(loadCtx, sc.rate/max(1, sc.clients), sc.perCall, "", &created) })
	}
	if sc.slow {
		wg.Go(func() { errs <- gen.run(loadCtx, slowRate, 1, slowEvent, &slowCreated) })
	}
	if len(noisy) > 0 {
		wg.Go(func() { errs <- keepBusy(loadCtx, noisyAPI, noisy) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return res, err
		}
	}
	loadTime := time.Since(start).Seconds()
	growth := mem.growth()
	if sc.source == "ingest" {
		res.IngestPerS = round(float64(created.Load()+slowCreated.Load()) / loadTime)
	}

	// Drain: wait until everything created has arrived, or give up.
	drainBy := time.Now().Add(drainMax)
	for (fast.Items.Load() < created.Load() || slow.Items.Load() < slowCreated.Load()) &&
		time.Now().Before(drainBy) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := fast.Last().Sub(start).Seconds()
	res.Created, res.Delivered = created.Load(), fast.Items.Load()
	res.Duplicates = fast.Duplicates()
	if sc.slow { // the noisy webhooks' items never count: they are meant to hang
		res.Duplicates += slow.Duplicates()
		res.SlowDelivered = slow.Items.Load()
	}
	res.Lost = res.Created - res.Delivered + slowCreated.Load() - res.SlowDelivered
	res.Seconds = round(elapsed)
	if elapsed > 0 {
		res.DeliveredPerS = round(float64(res.Delivered) / elapsed)
		res.RequestsPerS = round(float64(fast.Requests.Load()-int64(len(hooks))) / elapsed) // minus the activation tests
	}
	res.P50MS, res.P95MS, res.P99MS = fast.Percentiles()
	if res.Delivered > 0 {
		per1k := 1000 / float64(res.Delivered)
		res.HeraldCPUPer1k = round((herald.CPUSeconds() - heraldCPU) * per1k)
		res.PostgresCPUPer1k = round((rig.PostgresCPUSeconds() - pgCPU) * per1k)
		time.Sleep(statsLag) // the backends report their counters when idle
		writesAfter, err := rig.RowWrites(ctx, dbURL)
		if err != nil {
			return res, err
		}
		writes := rig.WritesSince(writesBefore, writesAfter)
		var total int64
		for name, w := range writes {
			if name != rig.Transactions {
				total += w.Total()
			}
		}
		res.XactsPerEvent = round(float64(writes[rig.Transactions].Inserted) / float64(res.Delivered))
		res.RowWritesPerEvent = round(float64(total) / float64(res.Delivered))
		walAfter, err := rig.WALPosition(ctx, dbURL)
		if err != nil {
			return res, err
		}
		res.WALBytesPerEvent = math.Round(float64(walAfter-walBefore) / float64(res.Delivered))
		fmt.Fprintf(os.Stderr, "bench: %s row writes per event: %s\n", sc.name, rig.FormatWrites(writes, res.Delivered))
	}
	res.PeakRSSMiB = round(herald.PeakRSS())
	res.RSSGrowthMiB = round(growth)
	return res, nil
}

// startHerald runs `herald all` on a fresh database cfg.db, in the
// Redis namespace bench_<name>, with env added to its environment, and waits
// until it answers. stop ends it; dbURL is its database.
func startHerald(ctx context.Context, cfg config, name string, env []string) (d *rig.Deployment, herald *rig.Proc, dbURL string, stop func(), err error) {
	dbURL, err = rig.RecreateDB(ctx, cfg.adminURL, cfg.db)
	if err != nil {
		return nil, nil, "", nil, err
	}
	d, err = rig.NewDeployment(cfg.bin, dbURL, cfg.redisURL, "bench_"+name, append(benchEnv(), env...)...)
	if err != nil {
		return nil, nil, "", nil, err
	}
	closeLog := func() { _ = d.Log.Close() } // the processes' log, read by people, not by the bench
	if err = d.Setup(ctx); err == nil {
		herald, err = d.Start(ctx, "all")
	}
	if err != nil {
		closeLog()
		return nil, nil, "", nil, err
	}
	stop = func() { herald.Stop(); closeLog() }
	if err = d.WaitHealthy(ctx, 30*time.Second); err != nil {
		stop()
		return nil, nil, "", nil, err
	}
	return d, herald, dbURL, stop, nil
}

// setup creates the scenario's webhooks on the receiver at target, and a
// journey for each that sends it the events named after it.
func setup(api *rig.API, sc scenario, target string) ([]int64, error) {
	hooks := make([]int64, sc.webhooks)
	for i := range hooks {
		id, err := api.ActiveWebhook(fmt.Sprintf("bench %d", i), target, sc.batchSize, sc.waitMS, nil)
		if err != nil {
			return nil, err
		}
		if sc.source == "ingest" {
			if err := api.Journey(eventName(i), id); err != nil {
				return nil, err
			}
		}
		hooks[i] = id
	}
	return hooks, nil
}

func eventName(i int) string { return fmt.Sprintf("Bench Event %d", i) }

// keepBusy gives each webhook a delivery a second until ctx ends, so
// every one of them always has a request to make.
func keepBusy(ctx context.Context, api *rig.API, hooks []int64) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		for _, id := range hooks {
			if err := api.Deliver(id, 1); err != nil && ctx.Err() == nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// generator is the load: each client sends requests of perCall events (or
// deliveries) to the webhooks in turn.
type generator struct {
	api   *rig.API
	key   string
	sc    scenario
	hooks []int64
	user  *atomic.Int64
	next  atomic.Int64
}

// run sends requests until ctx ends, at most rate events a second when
// rate is set, and counts what was accepted. An event name pins every
// request to that journey.
func (g *generator) run(ctx context.Context, rate, perCall int, event string, created *atomic.Int64) error {
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) * float64(perCall) / float64(rate)))
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return nil
			}
		}
		n := int(g.next.Add(1)) % len(g.hooks)
		var err error
		if g.sc.source == "api" {
			err = g.api.Deliver(g.hooks[n], perCall)
		} else {
			name := cmp.Or(event, eventName(n))
			err = g.api.Ingest(g.key, g.events(name, perCall))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil // the load ended mid-request
			}
			return err
		}
		created.Add(int64(perCall))
	}
	return nil
}

// events are n events named name for the next n of the bench's users,
// stamped with the time they were sent.
func (g *generator) events(name string, n int) []rig.Event {
	now := time.Now().UnixNano()
	evs := make([]rig.Event, n)
	for i := range evs {
		u := g.user.Add(1) % users
		evs[i] = rig.Event{Event: name, Properties: map[string]any{"sent_ns": now},
			User: map[string]any{"email": fmt.Sprintf("user%d@bench.example", u), "first_name": "Bench"}}
	}
	return evs
}

// rssWatch samples a process's resident memory every second.
type rssWatch struct {
	mu      sync.Mutex
	samples []float64
	stop    chan struct{}
}

func watchRSS(p *rig.Proc) *rssWatch {
	w := &rssWatch{stop: make(chan struct{})}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.mu.Lock()
				w.samples = append(w.samples, p.RSS())
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// growth stops sampling and returns the last sample minus the one a
// quarter of the way in (the warm-up is over by then).
func (w *rssWatch) growth() float64 {
	close(w.stop)
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) < 4 {
		return 0
	}
	return w.samples[len(w.samples)-1] - w.samples[len(w.samples)/4]
}

// benchEnv is what the bench passes on to Herald: its profiler when asked.
func benchEnv() []string {
	if p := os.Getenv("BENCH_PPROF_LISTEN"); p != "" {
		return []string{"HERALD_PPROF_LISTEN=" + p}
	}
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return round(a / b)
}

func round(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
