package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
)

// WorkerParams configure the asynq server that runs Herald's tasks.
type WorkerParams struct {
	Redis     asynq.RedisConnOpt
	Namespace string
	// Concurrency is how many tasks run at once; default 50. Most of them
	// wait on receivers, not on the CPU.
	Concurrency int
	// PanelConcurrency is the most of those slots one panel's deliveries
	// may hold at once; with other panels busy its share is smaller (see
	// delivery's panelShare), so panels whose endpoints hang cannot starve the others.
	// 0 means half of Concurrency; Concurrency or a negative number turns
	// the sharing off.
	PanelConcurrency int
	Store            *models.Store
	Sender           *delivery.Sender
	Enqueuer         *queue.Enqueuer
	Limiter          *ratelimit.Limiter
	Deliver          delivery.Config
	// Mailer sends alert e-mail; nil when SMTP is not configured.
	Mailer *mail.Mailer
	// PublicURL is where people reach Herald, for links in e-mails.
	PublicURL string
	// Metrics counts what the worker does; nil counts nothing.
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// Worker runs tasks until its context ends.
type Worker struct {
	srv       *asynq.Server
	mux       *asynq.ServeMux
	deliverer *delivery.Deliverer
	log       *slog.Logger
}

// NewWorker builds a Worker.
func NewWorker(p WorkerParams) *Worker {
	log := cmp.Or(p.Logger, slog.Default())
	concurrency := cmp.Or(p.Concurrency, 50)
	srv := asynq.NewServer(p.Redis, asynq.Config{
		Concurrency: concurrency,
		Queues:      queue.Queues(p.Namespace),
		// asynq polls; the defaults (1 s and 5 s) would add that much
		// latency to every batch, so poll faster.
		TaskCheckInterval:        50 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:          30 * time.Second,
		RetryDelayFunc:           retryDelay,
		Logger:                   asynqLogger{log},
		LogLevel:                 asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	tracker := &health.Tracker{Store: p.Store, Enqueuer: p.Enqueuer, Log: log}
	deliverer := delivery.NewDeliverer(delivery.DelivererParams{Config: p.Deliver, Metrics: p.Metrics, Tracker: tracker,
		Store: p.Store, Sender: p.Sender, Enqueuer: p.Enqueuer, Limiter: p.Limiter, Log: log,
		Concurrency: concurrency, PanelConcurrency: p.PanelConcurrency})
	mux.HandleFunc(queue.TypeFlush, deliverer.HandleFlush)
	engine := &journey.Engine{Store: p.Store, Enqueuer: p.Enqueuer, Log: log, Metrics: p.Metrics}
	mux.HandleFunc(queue.TypeTimer, engine.HandleTimer)
	mux.HandleFunc(queue.TypeTimers, engine.HandleTimers)
	mux.HandleFunc(queue.TypeOutcome, engine.HandleOutcome)
	mux.HandleFunc(queue.TypeIngest, engine.HandleIngest)
	alerter := &health.Alerter{Store: p.Store, Enqueuer: p.Enqueuer, Metrics: p.Metrics, Mailer: p.Mailer, PublicURL: p.PublicURL, Log: log}
	mux.HandleFunc(queue.TypeAlert, alerter.HandleAlert)
	mux.HandleFunc(queue.TypeAlertsDue, alerter.HandleAlertsDue)
	return &Worker{srv: srv, mux: mux, deliverer: deliverer, log: log}
}

// Run serves tasks until ctx is done, then waits for running tasks.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	<-ctx.Done()
	// Flushes hand their webhooks over before asynq stops waiting for
	// them (ShutdownTimeout), so no send lease is left to run out.
	w.deliverer.Stop()
	w.srv.Shutdown()
	return nil
}

// asynqLogger routes asynq's logs into slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}

// retryDelay spaces the retries of a failed task. A flush failed on a
// passing database error, and its webhook's deliveries wait on it: it
// comes back within a second, then doubling up to a minute; so does a
// task of journey timers, whose waits are due. Alert e-mails
// come back quickly at first (a mail server restart) and every 5 minutes
// at most. Other tasks use asynq's default (their work is also found by
// sweeps).
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	switch t.Type() {
	case queue.TypeFlush, queue.TypeTimers:
		return min(time.Duration(1<<min(n, 10))*500*time.Millisecond, time.Minute)
	case queue.TypeAlert:
		return min(time.Duration(1<<min(n, 10))*time.Second, 5*time.Minute)
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}
