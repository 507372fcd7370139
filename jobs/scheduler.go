package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// SchedulerParams configure the periodic jobs.
type SchedulerParams struct {
	Store    *models.Store
	Enqueuer *queue.Enqueuer
	// Sender runs the automatic probes of disabled webhooks.
	Sender *delivery.Sender
	// ReconcileEvery is how often lost work is looked for; default 5 s.
	ReconcileEvery time.Duration
	// Retention is how long delivered deliveries, attempts and processed
	// events are kept;
	// default 7 days.
	Retention time.Duration
	// NoMail says SMTP is not configured: unsent alerts are not swept
	// (health.Tracker.NoMail).
	NoMail bool
	// Metrics counts the jobs run; nil counts nothing.
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// Scheduler runs Herald's periodic jobs on gocron. Every replica runs one;
// the Elector lets only the leader execute jobs, so each runs once per
// period however many replicas there are.
type Scheduler struct {
	cron    gocron.Scheduler
	elector *Elector
	metrics *metrics.Metrics
	log     *slog.Logger
}

// periodic is one job of the schedule.
type periodic struct {
	name  string
	every time.Duration
	run   func(ctx context.Context) error
}

// NewScheduler builds the schedule.
func NewScheduler(p SchedulerParams) (*Scheduler, error) {
	log := cmp.Or(p.Logger, slog.Default())
	elector := &Elector{DB: p.Store.SQLDB()}
	cron, err := gocron.NewScheduler(gocron.WithDistributedElector(elector), gocron.WithLocation(time.UTC))
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s := &Scheduler{cron: cron, elector: elector, metrics: metrics.OrNop(p.Metrics), log: log}
	reconciler := &Reconciler{Store: p.Store, Enqueuer: p.Enqueuer, Grace: 5 * time.Second, Log: log}
	engine := &journey.Engine{Store: p.Store, Enqueuer: p.Enqueuer, Log: log}
	tracker := &health.Tracker{Store: p.Store, Enqueuer: p.Enqueuer, Log: log, NoMail: p.NoMail}
	prober := &delivery.Prober{Store: p.Store, Sender: p.Sender, Tracker: tracker, Enqueuer: p.Enqueuer, Log: log}
	retention := cmp.Or(p.Retention, 7*24*time.Hour)
	jobs := []periodic{
		{"reconcile-deliveries", cmp.Or(p.ReconcileEvery, 5*time.Second), reconciler.Run},
		{"feed-journey-timers", cmp.Or(p.ReconcileEvery, 5*time.Second), func(ctx context.Context) error {
			_, err := engine.FeedTimers(ctx)
			return err
		}},
		{"sweep-journey-timers", cmp.Or(p.ReconcileEvery, 5*time.Second), func(ctx context.Context) error {
			return engine.SweepRuns(ctx, 5*time.Second)
		}},
		{"sweep-events", cmp.Or(p.ReconcileEvery, 5*time.Second), func(ctx context.Context) error {
			return engine.SweepEvents(ctx, 5*time.Second)
		}},
		{"sweep-alerts", 30 * time.Second, tracker.SweepAlerts},
		{"probe-disabled-webhooks", time.Minute, prober.Run},
		{"health-rollup", time.Minute, tracker.Rollup},
		{"held-deliveries", time.Minute, func(ctx context.Context) error {
			held, err := p.Store.HeldCounts(ctx)
			for id, n := range held {
				log.InfoContext(ctx, "deliveries held", "webhook_id", id, "held", n)
			}
			return err
		}},
		{"prune-history", time.Hour, func(ctx context.Context) error {
			n, err := p.Store.PruneHistory(ctx, retention)
			if n > 0 {
				log.InfoContext(ctx, "pruned delivered deliveries, attempts and processed events", "rows", n, "older_than", retention)
			}
			return err
		}},
		{"prune-webhook-tests", time.Hour, func(ctx context.Context) error {
			n, err := p.Store.PruneTests(ctx, 30*24*time.Hour)
			if n > 0 {
				log.InfoContext(ctx, "pruned old webhook tests", "count", n)
			}
			return err
		}},
	}
	for _, j := range jobs {
		if err := s.add(j); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Scheduler) add(j periodic) error {
	_, err := s.cron.NewJob(gocron.DurationJob(j.every),
		gocron.NewTask(func(ctx context.Context) {
			s.metrics.PeriodicRuns.WithLabelValues(j.name).Inc()
			if err := j.run(ctx); err != nil {
				s.log.ErrorContext(ctx, "periodic job failed", "job", j.name, "error", err)
			}
		}),
		gocron.WithName(j.name),
		gocron.WithSingletonMode(gocron.LimitModeReschedule), // a slow run is never overlapped by the next
		gocron.WithStartAt(gocron.WithStartImmediately()),
	)
	if err != nil {
		return fmt.Errorf("scheduler: add %s: %w", j.name, err)
	}
	return nil
}

// Run runs the schedule until ctx is done.
func (s *Scheduler) Run(ctx context.Context) error {
	s.cron.Start()
	<-ctx.Done()
	err := s.cron.Shutdown()
	s.elector.Resign()
	return err
}
