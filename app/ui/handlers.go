// Package ui is Herald's marketer UI: server-rendered pages and forms for
// webhooks, journeys (the builder), lists and segments, and settings, with
// sign-in, sessions, invitations, the UI's rate limits and CSRF guard, one
// handler per file.
// The route table (package app) mounts it; its pages are the templates of
// templates/ and its static files those of web/. It does not import the
// admin API (app/api): what both do, they ask of the same code below them —
// httpx (loading the :id resource, the error mapping), the journey Engine
// (check, publish, counts), delivery.Service (test, preview, activate,
// replay) and the models Store — so the two audiences cannot drift.
package ui

import (
	"cmp"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
)

// Config is the part of app.Config the UI reads; app.New passes it on
// with its defaults filled (see app.Config for each field's default).
type Config struct {
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// LoginRateLimit is sign-in attempts per minute per client address.
	LoginRateLimit int
	// UIRateLimit is UI requests per minute per session or client address.
	UIRateLimit int
	// SecureCookies marks cookies Secure even on plain HTTP requests.
	SecureCookies bool
	// PublicURL is where people reach Herald, for invitation links; ""
	// uses the address the request came to.
	PublicURL string
}

// Params are what the UI is built from; app.New fills them from its own.
type Params struct {
	Config Config
	Store  *models.Store
	// Limiter spends the UI's rate limits; nil limits nothing.
	Limiter *ratelimit.Limiter
	// Engine checks, publishes and counts journeys, as for the admin API.
	Engine *journey.Engine
	// Outbox runs what the API and the UI both do to webhooks and their
	// deliveries.
	Outbox *delivery.Service
	// Mailer e-mails invitation links; nil only shows them to the inviter.
	Mailer *mail.Mailer
	// Consent mails new alert recipients the link to agree.
	Consent *health.Consent
	Logger  *slog.Logger
}

// Handlers serve the marketer UI's routes.
type Handlers struct {
	cfg     Config
	store   *models.Store
	limiter *ratelimit.Limiter
	engine  *journey.Engine
	outbox  *delivery.Service
	mailer  *mail.Mailer
	consent *health.Consent
	log     *slog.Logger
	now     func() time.Time
	pages   map[string]*template.Template
	// zonedPages are never executed, so that they can be cloned with the
	// time functions of a panel's zone (html/template clones only those).
	zonedPages map[string]*template.Template
	csrf       *http.CrossOriginProtection
}

// New builds the UI's handlers and parses its pages.
func New(p Params) *Handlers {
	s := &Handlers{
		cfg:     p.Config,
		store:   p.Store,
		limiter: p.Limiter,
		engine:  p.Engine,
		outbox:  p.Outbox,
		mailer:  p.Mailer,
		consent: p.Consent,
		log:     cmp.Or(p.Logger, slog.Default()),
		now:     p.Store.Now,
		csrf:    http.NewCrossOriginProtection(),
	}
	s.pages, s.zonedPages = s.parsePages(), s.parsePages()
	return s
}

// fail answers with the JSON error for err: the UI's script-facing
// answers (a test result, a preview) are JSON.
func (s *Handlers) fail(c *gin.Context, err error) { httpx.Fail(s.log, c, err) }

// classify maps err to its status and message, as for the API.
func (s *Handlers) classify(c *gin.Context, err error) (int, httpx.ErrorBody) {
	return httpx.Classify(s.log, c, err)
}

// loadWebhook loads the webhook named by :id, in the session's panel only
// (httpx.LoadWebhook, as for the admin API).
func (s *Handlers) loadWebhook(c *gin.Context) (*models.Webhook, error) {
	return httpx.LoadWebhook(c, s.store)
}

// webhooks is the delivery service for this request: what it logs (a
// flush Redis could not take) carries the request's id.
func (s *Handlers) webhooks(c *gin.Context) *delivery.Service {
	return s.outbox.WithLog(s.log.With("request_id", c.GetString(httpx.CtxRequestID)))
}
