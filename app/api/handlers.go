// Package api is Herald's admin JSON API under /api/v1: webhooks and their
// deliveries, ingest keys, journeys and their runs, contacts, lists and
// segments, alert recipients and settings, one handler per file. The route
// table (package app) mounts it behind the admin token and the rate limit,
// so every handler sees one panel's data only. Errors are answered through
// package httpx, in one JSON shape. What the marketer UI does the same way
// lives below both, in the domain packages (delivery.Service, the journey
// Engine, the models Store) and in httpx, so no other package imports this
// one but app.
package api

import (
	"cmp"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// Params are what the admin API is built from; app.New fills them from
// its own.
type Params struct {
	Store *models.Store
	// Engine publishes journeys.
	Engine *journey.Engine
	// Outbox runs what the API and the UI both do to webhooks and their
	// deliveries.
	Outbox *delivery.Service
	// IngestRateLimit is the ingest API's default limit per panel, which
	// the settings show when the panel sets none.
	IngestRateLimit int
	// Consent mails new alert recipients the link to agree; PublicURL
	// and SecureCookies make the link (httpx.PublicURL).
	Consent       *health.Consent
	PublicURL     string
	SecureCookies bool
	Logger        *slog.Logger
}

// Handlers serve the admin API's routes.
type Handlers struct {
	store           *models.Store
	engine          *journey.Engine
	outbox          *delivery.Service
	ingestRateLimit int
	consent         *health.Consent
	publicURL       string
	secureCookies   bool
	log             *slog.Logger
	now             func() time.Time
	// hashPII is what the deliveries API last read of each webhook's
	// hash_pii, so a request need not load the webhook (DeliveryCreate).
	hashPII hashSettings
}

// New builds the admin API's handlers.
func New(p Params) *Handlers {
	return &Handlers{
		store:           p.Store,
		engine:          p.Engine,
		outbox:          p.Outbox,
		ingestRateLimit: p.IngestRateLimit,
		consent:         p.Consent,
		publicURL:       p.PublicURL,
		secureCookies:   p.SecureCookies,
		log:             cmp.Or(p.Logger, slog.Default()),
		now:             p.Store.Now,
	}
}

// fail answers with the JSON error for err.
func (s *Handlers) fail(c *gin.Context, err error) { httpx.Fail(s.log, c, err) }

// webhooks is the delivery service for this request: what it logs (a
// flush Redis could not take) carries the request's id.
func (s *Handlers) webhooks(c *gin.Context) *delivery.Service {
	return s.outbox.WithLog(s.log.With("request_id", c.GetString(httpx.CtxRequestID)))
}
