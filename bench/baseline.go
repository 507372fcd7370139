package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/bench/internal/rig"
	"github.com/hibiken/asynq"
)

// baselineHTTP is what a plain Go client achieves against the same kind of
// receiver: the ceiling of requests per second on this machine.
func baselineHTTP(ctx context.Context, dur time.Duration, clients int) (float64, error) {
	recv, err := rig.NewReceiver()
	if err != nil {
		return 0, err
	}
	defer recv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	body := []byte("data=" + url.QueryEscape(`{"bench":[{"delivery_id":"dlv_x","event":"open"}]}`))
	loadCtx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				resp, err := client.Post(recv.URL, "application/x-www-form-urlencoded", bytes.NewReader(body))
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return round(float64(recv.Requests.Load()) / time.Since(start).Seconds()), nil
}

// baselineAsynq is how many no-op tasks a second asynq enqueues and runs on
// the same Redis, with Herald's worker concurrency: the ceiling of anything
// that takes one task per event.
func baselineAsynq(ctx context.Context, redisURL string, dur time.Duration, clients int) (float64, error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return 0, err
	}
	queue := fmt.Sprintf("herald_bench_noop_%d", os.Getpid())
	var done atomic.Int64
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 50, Queues: map[string]int{queue: 1},
		LogLevel: asynq.ErrorLevel})
	if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		done.Add(1)
		return nil
	})); err != nil {
		return 0, fmt.Errorf("asynq baseline: %w", err)
	}
	defer func() {
		srv.Shutdown()
		insp := asynq.NewInspector(opt)
		_ = insp.DeleteQueue(queue, true)
		_ = insp.Close()
	}()
	client := asynq.NewClient(opt)
	defer func() { _ = client.Close() }() // the baseline is measured by then

	loadCtx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var enqueued atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				if _, err := client.EnqueueContext(loadCtx, asynq.NewTask("noop", nil), asynq.Queue(queue)); err == nil {
					enqueued.Add(1)
				}
			}
		})
	}
	wg.Wait()
	for done.Load() < enqueued.Load() && time.Since(start) < dur+drainMax && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return round(float64(done.Load()) / time.Since(start).Seconds()), nil
}

// baselinePG is how many single-row INSERT commits a second this machine's
// PostgreSQL makes for clients connections at once, in a database of its
// own. The machine's speed varies from day to day; every scenario's
// delivered/s is also given over this figure, which moves with it.
func baselinePG(ctx context.Context, adminURL string, dur time.Duration, clients int) (float64, error) {
	dbURL, err := rig.RecreateDB(ctx, adminURL, "herald_bench_pg")
	if err != nil {
		return 0, err
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return 0, err
	}
	defer func() { _ = db.Close() }() // a scratch database: nothing to lose
	db.SetMaxOpenConns(clients)
	if _, err := db.ExecContext(ctx, `CREATE TABLE commits (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL, body text NOT NULL)`); err != nil {
		return 0, err
	}
	loadCtx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for loadCtx.Err() == nil {
				if _, err := db.ExecContext(loadCtx, `INSERT INTO commits (at, body) VALUES (now(), 'bench')`); err == nil {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
