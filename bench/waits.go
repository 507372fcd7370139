package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldhq/herald/bench/internal/rig"
)

// waitsResult is the waits scenario's figures: what one contact waiting in
// a journey costs while it waits.
type waitsResult struct {
	Scenario    string  `json:"scenario"`
	WaitingRuns int64   `json:"waiting_runs"`
	SetupS      float64 `json:"setup_s"`
	// Redis's used_memory and PostgreSQL's size of the journey_runs table (with its
	// indexes) and of the whole database, after the runs minus before,
	// per waiting run.
	RedisBytesPerWait      float64 `json:"redis_bytes_per_waiting_run"`
	PGRunsBytesPerWait     float64 `json:"postgres_runs_bytes_per_waiting_run"`
	PGDatabaseBytesPerWait float64 `json:"postgres_database_bytes_per_waiting_run"`
	// Then the deadlines of some runs are moved near (in PostgreSQL, as a
	// 30-day wait would come due), while the others keep waiting. Spread:
	// 1,000 deadlines a second; lateness is when the run moved (its
	// ended_at) minus its deadline.
	SpreadRuns          int64   `json:"spread_runs"`
	SpreadP50LatenessMS float64 `json:"timer_p50_lateness_ms"`
	SpreadP99LatenessMS float64 `json:"timer_p99_lateness_ms"`
	SpreadMaxLatenessMS float64 `json:"timer_max_lateness_ms"`
	// Burst: this many deadlines within the same second; done is from the
	// start of that second until the last of them moved.
	BurstRuns          int64   `json:"burst_runs"`
	BurstP99LatenessMS float64 `json:"burst_p99_lateness_ms"`
	BurstDoneS         float64 `json:"burst_done_s"`
	// Redis's used_memory at its highest during the two phases, minus
	// before the runs.
	RedisPeakGrowthBytes int64 `json:"redis_peak_growth_bytes"`
}

const (
	waitEvent      = "Bench Wait" // the trigger of the waits journey
	waitsPerCall   = 1000         // events per ingest request, the API's most
	waitsLoaders   = 8
	waitsSettleMax = 15 * time.Minute // how long the runs may take to be written
	spreadPerS     = 1000             // deadlines a second in the spread phase
	timersMax      = 5 * time.Minute  // how long a phase's runs may take to move
)

// runWaits puts BENCH_WAITS contacts (1,000,000 by default) into a 30-day
// wait and measures what they cost in Redis and PostgreSQL while they
// wait, then how late their timers fire when their deadlines come.
func runWaits(ctx context.Context, cfg config) (waitsResult, error) {
	res := waitsResult{Scenario: "waits-1m"}
	n, err := strconv.Atoi(rig.EnvOr("BENCH_WAITS", "1000000"))
	if err != nil || n < waitsPerCall {
		return res, fmt.Errorf("BENCH_WAITS must be a whole number, at least %d", waitsPerCall)
	}
	n -= n % waitsPerCall
	recv, err := rig.NewReceiver()
	if err != nil {
		return res, err
	}
	defer recv.Close()
	d, _, dbURL, stop, err := startHerald(ctx, cfg, "waits", nil)
	if err != nil {
		return res, err
	}
	defer stop()
	api := rig.NewAPI(d, 64)
	hook, err := api.ActiveWebhook("bench waits", recv.URL, 100, 1000, nil)
	if err != nil {
		return res, err
	}
	journey, err := api.Publish(map[string]any{"name": "Bench waits", "reentry": "never", "nodes": []map[string]any{
		{"id": "t", "type": "trigger", "event": waitEvent, "next": "w"},
		{"id": "w", "type": "wait_for_event", "event": "Never Happens", "within": "720h", "happened": "s", "timeout": "h"},
		{"id": "h", "type": "webhook", "webhook_id": hook, "next": "s"},
		{"id": "s", "type": "stop"},
	}})
	if err != nil {
		return res, err
	}
	key, err := d.Run(ctx, "ingest-key", "create", "--panel", "bench")
	if err != nil {
		return res, err
	}
	rdb, db, err := waitsClients(cfg.redisURL, dbURL)
	if err != nil {
		return res, err
	}
	defer func() { _ = rdb.Close(); _ = db.Close() }()
	redisBefore, err := redisUsedMemory(ctx, rdb)
	if err != nil {
		return res, err
	}
	runsBefore, dbBefore, err := pgSizes(ctx, db)
	if err != nil {
		return res, err
	}

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, waitsLoaders)
	for range waitsLoaders {
		wg.Go(func() {
			for {
				first := next.Add(waitsPerCall) - waitsPerCall
				if first >= int64(n) || ctx.Err() != nil {
					return
				}
				evs := make([]rig.Event, waitsPerCall)
				for i := range evs {
					evs[i] = rig.Event{Event: waitEvent, User: map[string]any{"email": fmt.Sprintf("waiter%d@bench.example", first+int64(i))}}
				}
				if err := api.Ingest(key, evs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return res, err
	}
	fmt.Fprintf(os.Stderr, "bench: waits: %d events ingested in %.0f s; waiting for the runs\n", n, time.Since(start).Seconds())
	for deadline := time.Now().Add(waitsSettleMax); ; {
		counts, err := api.RunCounts(journey)
		if err != nil {
			return res, err
		}
		if res.WaitingRuns = counts["waiting"]; res.WaitingRuns >= int64(n) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return res, fmt.Errorf("only %d of %d runs waiting after %v", res.WaitingRuns, n, waitsSettleMax)
		}
		time.Sleep(time.Second)
	}
	res.SetupS = round(time.Since(start).Seconds())
	redisAfter, err := redisUsedMemory(ctx, rdb)
	if err != nil {
		return res, err
	}
	runsAfter, dbAfter, err := pgSizes(ctx, db)
	if err != nil {
		return res, err
	}
	w := float64(res.WaitingRuns)
	res.RedisBytesPerWait = round(float64(redisAfter-redisBefore) / w)
	res.PGRunsBytesPerWait = round(float64(runsAfter-runsBefore) / w)
	res.PGDatabaseBytesPerWait = round(float64(dbAfter-dbBefore) / w)

	// Half of the runs at most, 20,000 at most, at 1,000 deadlines a second;
	// then up to 100,000 of the rest within one second.
	res.SpreadRuns = min(20000, int64(n)/2)
	res.BurstRuns = min(100000, int64(n)-res.SpreadRuns)
	peak := &redisPeak{rdb: rdb, before: redisBefore}
	stopPeak := peak.watch(ctx)
	defer stopPeak()
	fmt.Fprintf(os.Stderr, "bench: waits: %d deadlines at %d a second\n", res.SpreadRuns, spreadPerS)
	lat, _, err := fireTimers(ctx, db, "spread", res.SpreadRuns, spreadPerS)
	if err != nil {
		return res, err
	}
	res.SpreadP50LatenessMS, res.SpreadP99LatenessMS, res.SpreadMaxLatenessMS = lat.p50, lat.p99, lat.max
	fmt.Fprintf(os.Stderr, "bench: waits: %d deadlines in the same second\n", res.BurstRuns)
	lat, done, err := fireTimers(ctx, db, "burst", res.BurstRuns, res.BurstRuns)
	if err != nil {
		return res, err
	}
	res.BurstP99LatenessMS, res.BurstDoneS = lat.p99, round(done.Seconds())
	stopPeak()
	res.RedisPeakGrowthBytes = peak.growth()
	return res, nil
}

// lateness sums up how late timers moved their runs, in milliseconds.
type lateness struct{ p50, p99, max float64 }

// fireTimers moves the deadlines of count waiting runs (not yet picked by
// an earlier phase) to perSecond a second, starting at the second 10 s
// from now, then waits until all of them moved and measures how late: a
// run's ended_at minus its deadline (kept in bench_deadlines, since the
// run's own wait_until is cleared when it moves). done is from the first
// deadline until the last run moved.
func fireTimers(ctx context.Context, db *sql.DB, phase string, count, perSecond int64) (lat lateness, done time.Duration, err error) {
	if _, err = db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_deadlines (id uuid PRIMARY KEY, phase text NOT NULL, due timestamptz NOT NULL)`); err != nil {
		return lat, 0, err
	}
	// Deadlines perSecond a second, spread evenly within each second.
	_, err = db.ExecContext(ctx, `WITH pick AS (
		  SELECT r.id, row_number() OVER (ORDER BY r.id) - 1 AS k FROM journey_runs r
		  WHERE r.status = 'waiting' AND NOT EXISTS (SELECT 1 FROM bench_deadlines d WHERE d.id = r.id) LIMIT $1),
		base AS (SELECT date_trunc('second', now()) + interval '10 seconds' AS at),
		due AS (SELECT pick.id, base.at + (pick.k / $2) * interval '1 second' + ((pick.k % $2) * 1000 / $2) * interval '1 millisecond' AS due
		  FROM pick, base),
		noted AS (INSERT INTO bench_deadlines SELECT id, $3, due FROM due)
		UPDATE journey_runs r SET wait_until = due.due FROM due WHERE r.id = due.id`, count, perSecond, phase)
	if err != nil {
		return lat, 0, err
	}
	for deadline := time.Now().Add(timersMax); ; {
		var moved int64
		if err = db.QueryRowContext(ctx, `SELECT count(*) FROM bench_deadlines d JOIN journey_runs r ON r.id = d.id
			WHERE d.phase = $1 AND r.status <> 'waiting'`, phase).Scan(&moved); err != nil {
			return lat, 0, err
		}
		if moved >= count {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return lat, 0, fmt.Errorf("%s: only %d of %d runs moved after %v", phase, moved, count, timersMax)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var doneS float64
	err = db.QueryRowContext(ctx, `SELECT
		  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.ended_at - d.due)),
		  percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.ended_at - d.due)),
		  max(extract(epoch FROM r.ended_at - d.due)),
		  extract(epoch FROM max(r.ended_at) - min(d.due))
		FROM bench_deadlines d JOIN journey_runs r ON r.id = d.id WHERE d.phase = $1`, phase).Scan(&lat.p50, &lat.p99, &lat.max, &doneS)
	lat.p50, lat.p99, lat.max = round(lat.p50*1000), round(lat.p99*1000), round(lat.max*1000)
	return lat, time.Duration(doneS * float64(time.Second)), err
}

// redisPeak follows Redis's used_memory while timers fire.
type redisPeak struct {
	rdb    *redis.Client
	before int64
	mu     sync.Mutex
	max    int64
}

// watch samples used_memory every 100 ms until the returned stop is
// called (more than once is fine).
func (p *redisPeak) watch(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if used, err := redisUsedMemory(ctx, p.rdb); err == nil {
				p.mu.Lock()
				p.max = max(p.max, used)
				p.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (p *redisPeak) growth() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max - p.before
}

func waitsClients(redisURL, dbURL string) (*redis.Client, *sql.DB, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, nil, err
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return nil, nil, err
	}
	return redis.NewClient(opt), db, nil
}

// redisUsedMemory is Redis's used_memory, in bytes.
func redisUsedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("redis INFO memory has no used_memory")
}

// pgSizes are the bytes of the journey_runs table with its indexes and of the
// whole database.
func pgSizes(ctx context.Context, db *sql.DB) (runs, database int64, err error) {
	err = db.QueryRowContext(ctx, `SELECT pg_total_relation_size('journey_runs'), pg_database_size(current_database())`).Scan(&runs, &database)
	return runs, database, err
}
