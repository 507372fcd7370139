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
}

const (
	waitEvent      = "Bench Wait" // the trigger of the waits journey
	waitsPerCall   = 1000         // events per ingest request, the API's most
	waitsLoaders   = 8
	waitsSettleMax = 15 * time.Minute // how long the runs may take to be written
)

// runWaits puts BENCH_WAITS contacts (1,000,000 by default) into a 30-day
// wait and measures what they cost in Redis and PostgreSQL while they wait.
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
	return res, nil
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
