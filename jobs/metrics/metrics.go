// Package metrics is Herald's Prometheus instrumentation: the counters the
// domain packages increment as they work (Metrics) and the gauges read
// from PostgreSQL and Redis on scrape (Collector). It is a leaf shared by
// every package that counts, so none of them depends on another for it.
package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Metrics are Herald's Prometheus metrics. Counters and histograms count
// what this process does; the gauges (Collector) read PostgreSQL and Redis,
// so any replica reports the same totals.
type Metrics struct {
	EventsIngested    *prometheus.CounterVec
	EventsSetAside    prometheus.Counter
	DeliveriesCreated *prometheus.CounterVec
	Attempts          *prometheus.CounterVec
	AttemptSeconds    *prometheus.HistogramVec
	AlertsSent        *prometheus.CounterVec
	AlertsGivenUp     prometheus.Counter
	PeriodicRuns      *prometheus.CounterVec
}

// New creates the metrics and registers them with reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		EventsIngested: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "events_ingested_total",
			Help: "Events accepted by the ingest API: stored, or duplicates of an event_id already stored."}, []string{"result"}),
		EventsSetAside: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: "events_set_aside_total",
			Help: "Events set aside unprocessed because PostgreSQL refused their data (listed on the panel's settings page)."}),
		DeliveriesCreated: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "deliveries_created_total",
			Help: "Deliveries written to the outbox, pending or held (webhook out of service)."}, []string{"status"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "attempts_total",
			Help: "HTTP requests to webhooks by outcome (delivered, retry, failed) and error class."}, []string{"outcome", "class"}),
		AttemptSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "herald", Name: "attempt_duration_seconds",
			Help:    "Latency of HTTP requests to webhooks, by outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"outcome"}),
		AlertsSent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "alerts_sent_total",
			Help: "Alert e-mails sent, by state (degraded, disabled, recovered)."}, []string{"state"}),
		AlertsGivenUp: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "herald", Name: "alerts_given_up_total",
			Help: "Alert e-mails given up unsent: refused for good by the mail server, or still failing a day after they were written."}),
		PeriodicRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "herald", Name: "periodic_job_runs_total",
			Help: "Periodic jobs this process ran (only the scheduler leader runs them)."}, []string{"job"}),
	}
	reg.MustRegister(m.EventsIngested, m.EventsSetAside, m.DeliveriesCreated, m.Attempts, m.AttemptSeconds, m.AlertsSent, m.AlertsGivenUp, m.PeriodicRuns)
	return m
}

// nopMetrics counts into nothing, for components built without metrics.
var nopMetrics = New(prometheus.NewRegistry())

// OrNop returns m, or metrics that go nowhere.
func OrNop(m *Metrics) *Metrics {
	if m == nil {
		return nopMetrics
	}
	return m
}

// Collector reports the state of the whole deployment as gauges:
// deliveries by status, webhooks by health, unprocessed events and queue
// depths. It reads them at most every 10 s, however often it is scraped.
type Collector struct {
	Store     *models.Store
	Inspector *asynq.Inspector
	Namespace string
	Log       *slog.Logger

	mu      sync.Mutex
	read    time.Time
	samples []prometheus.Metric
}

var (
	deliveriesDesc = prometheus.NewDesc("herald_deliveries", "Deliveries in the outbox by status (delivered ones are counted by herald_attempts_total).", []string{"status"}, nil)
	webhooksDesc   = prometheus.NewDesc("herald_webhooks", "Webhook assets by status and health state.", []string{"status", "health"}, nil)
	unprocessedDsc = prometheus.NewDesc("herald_events_unprocessed", "Events stored but not yet processed for journeys.", nil, nil)
	queueDesc      = prometheus.NewDesc("herald_queue_depth", "Tasks waiting in each asynq queue (pending, scheduled and retrying).", []string{"queue", "state"}, nil)
	runsDesc       = prometheus.NewDesc("herald_journey_runs_waiting", "Journey runs waiting at a wait_for_event node.", nil, nil)
)

// Describe lists the gauges.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{deliveriesDesc, webhooksDesc, unprocessedDsc, queueDesc, runsDesc} {
		ch <- d
	}
}

// Collect reports them, read again when older than 10 s.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.read) > 10*time.Second {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		samples, err := c.gather(ctx)
		cancel()
		if err != nil {
			c.Log.Warn("metrics: gauges not read", "error", err)
		} else {
			c.samples, c.read = samples, time.Now()
		}
	}
	for _, s := range c.samples {
		ch <- s
	}
}

func (c *Collector) gather(ctx context.Context) ([]prometheus.Metric, error) {
	g, err := c.Store.Gauges(ctx)
	if err != nil {
		return nil, err
	}
	var out []prometheus.Metric
	for status, n := range g.Deliveries {
		out = append(out, prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(n), status))
	}
	for k, n := range g.Webhooks {
		out = append(out, prometheus.MustNewConstMetric(webhooksDesc, prometheus.GaugeValue, float64(n), k[0], k[1]))
	}
	out = append(out, prometheus.MustNewConstMetric(unprocessedDsc, prometheus.GaugeValue, float64(g.UnprocessedEvents)))
	out = append(out, prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(g.WaitingRuns)))
	if c.Inspector != nil {
		for q := range queue.Queues(c.Namespace) {
			info, err := c.Inspector.GetQueueInfo(q)
			if err != nil {
				continue // a queue that never had a task does not exist yet
			}
			for state, n := range map[string]int{"pending": info.Pending, "scheduled": info.Scheduled, "retry": info.Retry, "active": info.Active} {
				out = append(out, prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), q, state))
			}
		}
	}
	return out, nil
}
