// Package app is Herald's HTTP server: Server, built by New from Params and
// Config, with the one route table (routes.go) that mounts the three
// audiences, each a package of its own: the admin JSON API (app/api), the
// ingest API (app/ingest) and the marketer UI (app/ui). What every route
// shares stays here: middleware (request log, panic recovery, admin token,
// rate limits), the body limit, the text rule's middleware, security
// headers and the metrics endpoint. The audience packages import neither
// this package nor each other; what they share sits below them, in
// app/httpx and the domain packages under jobs/ and models.
package app

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/app/api"
	"github.com/heraldhq/herald/app/ingest"
	"github.com/heraldhq/herald/app/ui"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
)

// Config is what the HTTP side needs to know; cmd fills it from the
// environment.
type Config struct {
	// MaxBodyBytes caps every request body; default 1 MiB.
	MaxBodyBytes int64
	// AdminRateLimit is requests per minute per panel on the admin API;
	// default 600.
	AdminRateLimit int
	// IngestRateLimit is requests per minute per panel on the ingest API,
	// unless the panel sets its own; default 1000.
	IngestRateLimit int
	// MetricsToken, when set, is the Bearer token /metrics requires.
	MetricsToken string
	// SessionTTL is how long a UI sign-in lasts; default 12 h, a working
	// day, so a forgotten browser does not stay signed in for long.
	SessionTTL time.Duration
	// LoginRateLimit is sign-in attempts per minute per client address;
	// default 20, plenty for people and too few for guessing passwords.
	// Each account has its own limit too (loginAccountLimit).
	LoginRateLimit int
	// UIRateLimit is UI requests per minute per signed-in session, or per
	// client address before sign-in; default 600, far above what a person
	// clicks.
	UIRateLimit int
	// AuthRateLimit is token lookups per minute per client address on the
	// admin and ingest APIs: a token this replica has not seen in the last
	// few seconds costs a database query, so a flood of made-up tokens
	// from one address is answered 429 before it reaches PostgreSQL,
	// which every panel shares. Default 600: a live token is looked up
	// once every few seconds, so an address sending for dozens of panels
	// stays far below it.
	AuthRateLimit int
	// TrustedProxies are the peers whose X-Forwarded-For names the client;
	// empty (the default) takes the client from the socket, so a spoofed
	// header buys no fresh rate-limit budget.
	TrustedProxies []netip.Prefix
	// SecureCookies marks the UI's cookies Secure even on plain HTTP
	// requests: set it when a TLS proxy in front serves Herald over HTTPS
	// (cmd sets it when HERALD_PUBLIC_URL is https). A request that came
	// over TLS gets Secure cookies anyway.
	SecureCookies bool
	// PublicURL is where people reach Herald (HERALD_PUBLIC_URL), for the
	// invitation links; "" uses the address the request came to.
	PublicURL string
}

func (c Config) withDefaults() Config {
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 1<<20)
	c.AdminRateLimit = cmp.Or(c.AdminRateLimit, 600)
	c.IngestRateLimit = cmp.Or(c.IngestRateLimit, 1000)
	c.SessionTTL = cmp.Or(c.SessionTTL, 12*time.Hour)
	c.LoginRateLimit = cmp.Or(c.LoginRateLimit, 20)
	c.UIRateLimit = cmp.Or(c.UIRateLimit, 600)
	c.AuthRateLimit = cmp.Or(c.AuthRateLimit, 600)
	return c
}

// Params are the parts a Server is built from.
type Params struct {
	Config  Config
	Store   *models.Store
	Sender  *delivery.Sender
	Limiter *ratelimit.Limiter
	// Shares spends the ingest and admin API budgets of Limiter in local
	// grants; whoever runs the server sweeps it (Shares.Run) and gives its
	// grants back on the way out. When nil the server makes its own, whose
	// leftovers are given back by the key's next request only.
	Shares *ratelimit.Shares
	// Enqueuer hands new work to the worker; it may be nil in tests that
	// need no worker, and the reconciler finds the work all the same.
	Enqueuer *queue.Enqueuer
	// Engine stores ingested events and moves journeys.
	Engine *journey.Engine
	// Tracker resets the health of webhooks put back in service.
	Tracker *health.Tracker
	// Metrics counts what the HTTP side does; nil counts nothing.
	Metrics *metrics.Metrics
	// Gatherer is what /metrics serves; nil serves no /metrics.
	Gatherer prometheus.Gatherer
	// Mailer e-mails invitation links and alert recipients' confirmation
	// links; nil (SMTP not configured) shows invitation links to the
	// inviter only, and leaves recipients unconfirmed.
	Mailer *mail.Mailer
	Logger *slog.Logger
}

// Server serves Herald's HTTP routes.
type Server struct {
	cfg      Config
	store    *models.Store
	sender   *delivery.Sender
	limiter  *ratelimit.Limiter
	shares   *ratelimit.Shares
	enqueuer *queue.Enqueuer
	engine   *journey.Engine
	tracker  *health.Tracker
	metrics  *metrics.Metrics
	gatherer prometheus.Gatherer
	log      *slog.Logger
	now      func() time.Time
	// outbox runs what the API and the UI both do to webhooks and their
	// deliveries; reach it through webhooks(c), which logs the request id.
	outbox *delivery.Service
	// ingestAPI serves POST /v1/webhook/{source}.
	ingestAPI *ingest.Handler
	// admin serves the admin API, /api/v1.
	admin *api.Handlers
	// marketer serves the marketer UI.
	marketer *ui.Handlers
	// renders bounds each panel's requests that render body templates.
	renders panelGate
}

// New builds a Server.
func New(p Params) *Server {
	s := &Server{
		cfg:      p.Config.withDefaults(),
		store:    p.Store,
		sender:   p.Sender,
		limiter:  p.Limiter,
		shares:   p.Shares,
		enqueuer: p.Enqueuer,
		engine:   p.Engine,
		tracker:  p.Tracker,
		metrics:  metrics.OrNop(p.Metrics),
		gatherer: p.Gatherer,
		log:      cmp.Or(p.Logger, slog.Default()),
		now:      p.Store.Now,
	}
	if s.shares == nil && s.limiter != nil {
		s.shares = &ratelimit.Shares{Limiter: s.limiter}
	}
	s.outbox = &delivery.Service{
		Store:    s.store,
		Sender:   s.sender,
		Enqueuer: s.enqueuer,
		Tracker:  s.tracker,
		Metrics:  s.metrics,
		Log:      s.log,
	}
	consent := &health.Consent{Store: s.store, Mailer: p.Mailer, Limiter: s.limiter, Log: s.log}
	s.admin = api.New(api.Params{
		Consent:         consent,
		PublicURL:       s.cfg.PublicURL,
		SecureCookies:   s.cfg.SecureCookies,
		Store:           s.store,
		Engine:          s.engine,
		Outbox:          s.outbox,
		IngestRateLimit: s.cfg.IngestRateLimit,
		Logger:          s.log,
	})
	s.ingestAPI = &ingest.Handler{
		Store:        s.store,
		Engine:       s.engine,
		Metrics:      s.metrics,
		RateLimit:    s.cfg.IngestRateLimit,
		Now:          s.now,
		Fail:         s.fail,
		Limit:        s.rateLimit,
		Authenticate: s.authenticate,
	}
	s.marketer = ui.New(ui.Params{
		Config: ui.Config{
			SessionTTL:     s.cfg.SessionTTL,
			LoginRateLimit: s.cfg.LoginRateLimit,
			UIRateLimit:    s.cfg.UIRateLimit,
			SecureCookies:  s.cfg.SecureCookies,
			PublicURL:      s.cfg.PublicURL,
		},
		Store:   s.store,
		Limiter: s.limiter,
		Engine:  s.engine,
		Outbox:  s.outbox,
		Mailer:  p.Mailer,
		Consent: consent,
		Logger:  s.log,
	})
	return s
}

// Handler returns the whole route table as one http.Handler.
func (s *Server) Handler() http.Handler {
	return WithSecurityHeaders(s.router())
}

// Routes lists every route Herald serves, for tests that check a table of
// routes against the real one.
func (s *Server) Routes() gin.RoutesInfo {
	return s.router().Routes()
}

func (s *Server) router() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// The client is the socket's peer unless that peer is a trusted proxy;
	// then X-Forwarded-For (only that header) names it.
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
	var proxies []string
	for _, p := range s.cfg.TrustedProxies {
		proxies = append(proxies, p.String())
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		panic(fmt.Sprintf("app: trusted proxies %v: %v", proxies, err)) // netip.Prefix values always parse
	}
	s.routes(r)
	return r
}
