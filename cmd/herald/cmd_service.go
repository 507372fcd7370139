package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/app"
	"github.com/heraldhq/herald/jobs"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
)

var serviceSummaries = map[string]string{
	"all":       "Run the HTTP server, the worker and the scheduler in one process, after migrating the database.",
	"serve":     "Run the HTTP server: admin API, UI and ingest API, on HERALD_LISTEN.",
	"worker":    "Run the task worker: it sends batches, fires journey timers and sends alert mail.",
	"scheduler": "Run the periodic jobs. Any number may run; one is elected leader through PostgreSQL.",
}

// runService runs one or all of the long-running parts until a signal.
func runService(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlags(name, serviceSummaries[name], stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, true)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	redis.SetLogger(redisLog{log})
	if cfg.devKeyNote != "" {
		log.Warn(cfg.devKeyNote)
	}
	if name == "all" {
		if _, err := whileUnavailable(ctx, log, func() (struct{}, error) { return struct{}{}, migrate(ctx, cfg, log) }); err != nil {
			return err
		}
	}
	rt, err := whileUnavailable(ctx, log, func() (*runtime, error) { return openRuntime(ctx, cfg, log) })
	if err != nil {
		return err
	}
	defer rt.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counters := metrics.New(reg)
	if name == "all" || name == "serve" {
		// The deployment's state, read from PostgreSQL and Redis, is
		// reported by the processes that serve /metrics.
		reg.MustRegister(&metrics.Collector{Store: rt.store, Inspector: rt.enqueuer.Inspector, Namespace: cfg.Namespace, Log: log})
	}

	g, ctx := errgroup.WithContext(ctx)
	if cfg.MetricsListen != "" {
		g.Go(func() error { return serveMetrics(ctx, cfg.MetricsListen, cfg.MetricsToken, reg) })
	}
	if cfg.PprofListen != "" {
		g.Go(func() error { return servePprof(ctx, cfg.PprofListen) })
	}
	// The worker mails alerts, the HTTP server invitation links.
	mailer, err := mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.AlertFrom})
	if err != nil {
		return &configError{"HERALD_SMTP_URL", err.Error()}
	}
	if name == "all" || name == "serve" {
		g.Go(func() error { return serveHTTP(ctx, rt, counters, reg, mailer) })
	}
	if name == "all" || name == "worker" {
		if mailer == nil {
			log.Warn("HERALD_SMTP_URL is not set: alerts are recorded but no e-mail is sent")
		}
		w := jobs.NewWorker(jobs.WorkerParams{Redis: rt.asynq, Namespace: cfg.Namespace, Concurrency: cfg.WorkerConcurrency,
			PanelConcurrency: cfg.PanelConcurrency, Store: rt.store, Sender: rt.sender, Enqueuer: rt.enqueuer, Limiter: rt.limiter,
			Deliver: delivery.Config{Lease: cfg.HTTPTimeout + 90*time.Second}, Mailer: mailer,
			PublicURL: cfg.PublicURL, Metrics: counters, Logger: log})
		g.Go(func() error { return w.Run(ctx) })
	}
	if name == "all" || name == "scheduler" {
		s, err := jobs.NewScheduler(jobs.SchedulerParams{Store: rt.store, Enqueuer: rt.enqueuer, Sender: rt.sender,
			Retention: cfg.Retention, NoMail: mailer == nil, Metrics: counters, Logger: log})
		if err != nil {
			return err
		}
		g.Go(func() error { return s.Run(ctx) })
	}
	log.Info("herald started", "command", name, "version", version, "listen", cfg.Listen, "env", cfg.Env)
	return g.Wait()
}

// serveHTTP serves the app until ctx ends, then drains for up to 30 s.
func serveHTTP(ctx context.Context, rt *runtime, counters *metrics.Metrics, reg *prometheus.Registry, mailer *mail.Mailer) error {
	// With a listener of its own /metrics is served there only, not where
	// the users (or the internet) reach Herald.
	var gatherer prometheus.Gatherer = reg
	if rt.cfg.MetricsListen != "" {
		gatherer = nil
	}
	// The ingest and admin API budgets are spent in local grants; the sweep
	// gives back those of panels gone quiet, and shutdown gives back the rest.
	shares := &ratelimit.Shares{Limiter: rt.limiter}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); shares.Run(sweepCtx, rt.log) }()
	// The sweep ends before the grants are given back and the clients close.
	defer func() { stopSweep(); <-swept }()
	server := app.New(app.Params{
		Config: app.Config{AdminRateLimit: rt.cfg.AdminRateLimit, IngestRateLimit: rt.cfg.IngestRateLimit,
			MetricsToken: rt.cfg.MetricsToken, SecureCookies: strings.HasPrefix(rt.cfg.PublicURL, "https://"),
			PublicURL: rt.cfg.PublicURL, UIRateLimit: rt.cfg.UIRateLimit, AuthRateLimit: rt.cfg.AuthRateLimit, TrustedProxies: rt.cfg.TrustedProxies},
		Mailer:   mailer,
		Metrics:  counters,
		Gatherer: gatherer,
		Store:    rt.store,
		Sender:   rt.sender,
		Limiter:  rt.limiter,
		Shares:   shares,
		Enqueuer: rt.enqueuer,
		Engine: &journey.Engine{Store: rt.store, Enqueuer: rt.enqueuer, Log: rt.log, Metrics: counters,
			MaxLiveJourneys: rt.cfg.MaxLiveJourneys},
		Tracker: &health.Tracker{Store: rt.store, Enqueuer: rt.enqueuer, Log: rt.log},
		Logger:  rt.log,
	})
	srv := &http.Server{
		Addr:              rt.cfg.Listen,
		Handler:           server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      rt.cfg.HTTPTimeout + 30*time.Second, // a test request may take the whole outbound timeout
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	rt.log.Info("listening", "url", rt.cfg.PublicURL)
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", rt.cfg.Listen, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopSweep()
	<-swept
	if err := shares.Close(shutdownCtx); err != nil {
		rt.log.Warn("rate limit grants not given back", "error", err)
	}
	return nil
}

// migrate creates the database if needed and applies migrations.
func migrate(ctx context.Context, cfg *config, log *slog.Logger) error {
	created, err := ensureDatabase(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if created {
		log.Info("created database", "url", redactURL(cfg.DatabaseURL))
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	// The migrations are committed by now: a failing Close changes nothing.
	defer func() { _ = models.Close(db) }()
	applied, err := models.Migrate(ctx, db)
	if err != nil {
		return err
	}
	for _, m := range applied {
		log.Info("applied migration", "file", m)
	}
	return nil
}

// serveMetrics serves /metrics on its own listener, wanting the Bearer
// token when one is set, as the main listener does.
func serveMetrics(ctx context.Context, addr, token string, reg *prometheus.Registry) error {
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald metrics"`)
			http.Error(w, "missing or wrong metrics token", http.StatusUnauthorized)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: addr, Handler: app.WithSecurityHeaders(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics on %s: %w", addr, err)
	}
	return nil
}

// servePprof serves net/http/pprof's handlers on their own loopback listener.
func servePprof(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof on %s: %w", addr, err)
	}
	return nil
}
