// Command chaos is a bounded fault-injection run on loopback. It starts a
// private PostgreSQL and Redis, Herald as separate serve, worker (two) and
// scheduler processes, and a receiver; sends a steady stream of events
// through the ingest API and, every other request, items through the
// deliveries API (one per call) for CHAOS_SECONDS; and meanwhile kills workers
// with SIGKILL, restarts Redis empty, crashes and restarts PostgreSQL, and
// makes the receiver answer 500 and then time out for a while. Then it
// waits for the outbox to drain and checks that every event Herald
// accepted reached the receiver at least once.
//
// Output: the faults as they happened, the counts, and one JSON object on
// the last line. It exits 1 if an accepted event was lost.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/bench/internal/rig"
)

// summary is the run's outcome; its JSON is the last line of make chaos.
type summary struct {
	Seconds  int `json:"seconds"`
	Faults   int `json:"faults"`
	Accepted int `json:"accepted"`
	// AcceptedAPI are the accepted items that came through the deliveries
	// API (the rest are events through ingest and journeys).
	AcceptedAPI int            `json:"accepted_api"`
	Delivered   int            `json:"delivered"`
	Duplicated  int64          `json:"duplicated"`
	Lost        int            `json:"lost"`
	Refused     map[string]int `json:"refused_requests"`
	DrainS      float64        `json:"drain_s"`
}

const (
	rate     = 400 // events a second, from all clients
	clients  = 4
	webhooks = 4
	// apiWebhooks get every other request's items through the deliveries
	// API, one item per call.
	apiWebhooks = 4
	httpLimit   = 2 * time.Second // Herald's outbound timeout; the receiver's hang outlasts it
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	seconds, err := strconv.Atoi(rig.EnvOr("CHAOS_SECONDS", "60"))
	if err != nil || seconds < 20 {
		fail(fmt.Errorf("CHAOS_SECONDS must be a whole number of seconds, at least 20"))
	}
	drainFor, err := time.ParseDuration(rig.EnvOr("CHAOS_DRAIN", "5m"))
	if err != nil {
		fail(fmt.Errorf("CHAOS_DRAIN: %w", err))
	}
	if err := run(ctx, time.Duration(seconds)*time.Second, drainFor, rig.EnvOr("HERALD_BIN", "bin/herald")); err != nil {
		fail(err)
	}
}

func run(ctx context.Context, dur, drainFor time.Duration, bin string) error {
	step("starting a private PostgreSQL and Redis")
	pg, err := startPostgres(ctx)
	if err != nil {
		return err
	}
	defer pg.remove()
	rd, err := startRedis(ctx)
	if err != nil {
		return err
	}
	defer rd.kill()
	dbURL, err := rig.RecreateDB(ctx, pg.url("postgres"), "herald")
	if err != nil {
		return err
	}
	d, err := rig.NewDeployment(bin, dbURL, rd.url(), "chaos", "HERALD_HTTP_TIMEOUT="+httpLimit.String(),
		"HERALD_DB_MAX_CONNS=10", "HERALD_WORKER_CONCURRENCY=20")
	if err != nil {
		return err
	}
	defer func() { _ = d.Log.Close() }() // the processes' log, read by people, not by the run
	step("starting Herald: serve, 2 workers, scheduler (log: %s)", d.Log.Name())
	if err := d.Setup(ctx); err != nil {
		return err
	}
	fleet := &fleet{d: d}
	defer fleet.stop()
	for _, role := range []string{"serve", "worker", "worker", "scheduler"} {
		if err := fleet.start(ctx, role); err != nil {
			return err
		}
	}
	if err := d.WaitHealthy(ctx, 30*time.Second); err != nil {
		return err
	}
	recv, err := rig.NewReceiver()
	if err != nil {
		return err
	}
	defer recv.Close()
	api := rig.NewAPI(d, 16)
	l := &load{api: api, refusals: map[string]int{}}
	for i := range webhooks {
		id, err := api.ActiveWebhook(fmt.Sprintf("chaos %d", i), recv.URL, 50, 500, nil)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("Chaos Event %d", i)
		if err := api.Journey(name, id); err != nil {
			return err
		}
		l.events = append(l.events, name)
	}
	for i := range apiWebhooks {
		id, err := api.ActiveWebhook(fmt.Sprintf("chaos api %d", i), recv.URL, 1, 0, nil)
		if err != nil {
			return err
		}
		l.apiHooks = append(l.apiHooks, id)
	}
	if l.key, err = d.Run(ctx, "ingest-key", "create", "--panel", "bench"); err != nil {
		return err
	}

	step("load: %d events/s from %d clients for %v, with faults", rate, clients, dur)
	start := time.Now()
	// The load lasts dur, or until the last fault is over if the faults
	// take longer: every fault strikes under load.
	loadCtx, endLoad := context.WithCancel(ctx)
	defer endLoad()
	retryCtx, endRetries := context.WithCancel(ctx)
	defer endRetries()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() { l.run(loadCtx, retryCtx, rate/clients) })
	}
	faults := schedule(fleet, pg, rd, recv, dur)
	for _, f := range faults {
		time.Sleep(time.Until(start.Add(time.Duration(f.at * float64(dur)))))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		step("t=%5.1fs  %s", time.Since(start).Seconds(), f.name)
		if err := f.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	time.Sleep(time.Until(start.Add(dur)))
	endLoad()
	// A batch refused at the end is sent again for up to a minute, so
	// that what counts as accepted is settled.
	time.AfterFunc(time.Minute, endRetries)
	wg.Wait()
	recv.SetStatus(0)
	recv.SetDelay(0)
	if err := fleet.ensure(ctx); err != nil {
		return err
	}

	accepted := l.Accepted()
	step("load over at t=%.1fs: %d events accepted; waiting up to %v for them to arrive", time.Since(start).Seconds(), len(accepted), drainFor)
	drainStart := time.Now()
	missing := accepted
	for ctx.Err() == nil && time.Since(drainStart) < drainFor {
		missing = notSeen(recv, missing)
		if len(missing) == 0 {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	apiItems := 0
	for _, id := range accepted {
		if strings.HasPrefix(id, "dlv_") {
			apiItems++
		}
	}
	s := summary{Seconds: int(dur.Seconds()), Faults: len(faults), Accepted: len(accepted), AcceptedAPI: apiItems,
		Delivered: len(accepted) - len(missing), Duplicated: recv.Duplicates(), Lost: len(missing),
		Refused: l.refusals, DrainS: round(time.Since(drainStart).Seconds())}
	fmt.Printf("\nevents accepted   %d (%d through the deliveries API)\ndelivered         %d\nduplicated        %d\nlost              %d\n",
		s.Accepted, s.AcceptedAPI, s.Delivered, s.Duplicated, s.Lost)
	fmt.Printf("drained in        %.1fs after the load\nrefused requests  %v (each sent again until accepted)\n", s.DrainS, s.Refused)
	if s.Lost > 0 {
		explain(dbURL, missing)
	}
	b, _ := json.Marshal(s)
	fmt.Println(string(b))
	if s.Lost > 0 {
		return fmt.Errorf("%d accepted events never reached the receiver", s.Lost)
	}
	return nil
}

func notSeen(recv *rig.Receiver, ids []string) []string {
	var out []string
	for _, id := range ids {
		if !recv.Seen(id) {
			out = append(out, id)
		}
	}
	return out
}

// explain prints where lost events are stuck, for whoever has to fix it.
func explain(dbURL string, missing []string) {
	fmt.Printf("first lost events: %v\n", missing[:min(5, len(missing))])
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return
	}
	defer func() { _ = db.Close() }() // a diagnostic read: nothing to report a Close error to
	for _, q := range []string{
		`SELECT 'deliveries ' || status, count(*) FROM deliveries GROUP BY status`,
		`SELECT 'events unprocessed', count(*) FROM events WHERE processed_at IS NULL`,
		`SELECT 'webhooks ' || status, count(*) FROM webhooks GROUP BY status`,
	} {
		if err := printCounts(db, q); err != nil {
			fmt.Println(" ", err)
		}
	}
}

// printCounts prints the (label, count) rows that q answers.
func printCounts(db *sql.DB, q string) error {
	rows, err := db.Query(q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var what string
		var n int
		if err := rows.Scan(&what, &n); err != nil {
			return err
		}
		fmt.Printf("  %s: %d\n", what, n)
	}
	return rows.Err()
}

func step(format string, args ...any) {
	fmt.Printf("chaos: "+format+"\n", args...)
}

func round(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "chaos:", err)
	os.Exit(1)
}
