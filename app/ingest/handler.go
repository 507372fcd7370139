// Package ingest is the ingest API, POST /v1/webhook/{source}: how apps,
// CRMs and channel providers hand Herald their events. It authenticates
// the ingest key, spends the panel's rate limit, parses the body (JSON or
// a form, checked against the text rule) and gives the events to the
// journey engine, which stores them before the 200. Its answers are fixed
// by contract (see the README), so it writes its own error bodies rather
// than the admin API's.
package ingest

import (
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/models"
)

// Path is the ingest API's route.
const Path = "/v1/webhook/:source"

// Handler serves the ingest API; app.New builds it. Errors it does not
// answer itself, and the rate limit, go through the server's Fail and
// Limit, so that every route maps errors and spends limits alike.
type Handler struct {
	Store   *models.Store
	Engine  *journey.Engine
	Metrics *metrics.Metrics
	// RateLimit is requests per minute per panel, unless the panel sets
	// its own.
	RateLimit int
	Now       func() time.Time
	// Fail answers with the JSON error for err (the server's error mapping).
	Fail func(c *gin.Context, err error)
	// Limit spends one request of key's perMinute budget, or aborts with
	// 429 and refusal as the body.
	Limit func(c *gin.Context, key string, perMinute int, refusal any)
	// Authenticate finds the panel of a token (the server's, which limits
	// lookups per client address): models.ErrNotFound for none, or an
	// *httpx.Error to answer with (429).
	Authenticate func(c *gin.Context, kind models.TokenKind, token string) (*models.Panel, error)
}

var sourcePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Serve accepts events from apps, CRMs and channel providers: POST
// /v1/webhook/{source}. The events are in PostgreSQL before the 200;
// workers then process them for journeys. Its answers are fixed by
// contract: see the README.
func (h *Handler) Serve(c *gin.Context) {
	ctx := c.Request.Context()
	panel, err := h.Authenticate(c, models.TokenIngest, httpx.Bearer(c))
	if errors.Is(err, models.ErrNotFound) {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "Unauthorized"})
		return
	}
	var limited *httpx.Error
	if errors.As(err, &limited) && limited.Status == http.StatusTooManyRequests {
		c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "Rate limit exceeded"})
		return
	}
	if err != nil {
		h.Fail(c, err)
		return
	}
	c.Set(httpx.CtxPanel, panel)
	limit := models.IngestLimit(h.RateLimit, panel.IngestRateLimit)
	h.Limit(c, "ingest:"+strconv.FormatInt(panel.ID, 10), limit, gin.H{"error": "Rate limit exceeded"})
	if c.IsAborted() {
		return
	}
	source := c.Param("source")
	if !sourcePattern.MatchString(source) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload",
			"detail": "the source in the path must be 1-64 letters, digits, '_', '-' or '.'"})
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		TooLarge(c, tooBig.Limit)
		return
	}
	if err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload", "detail": "the body could not be read"})
		return
	}
	events, err := Parse(c.ContentType(), body, h.Now())
	var bad *invalidPayload
	if errors.As(err, &bad) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload", "detail": bad.detail})
		return
	}
	res, err := h.Engine.Accept(ctx, panel, source, events)
	if reason, bad := models.DataError(err); bad {
		// A value the parser let through and PostgreSQL refused: the
		// sender's fault, and this request's alone (see insertGroup).
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload",
			"detail": "an event holds a value that cannot be stored: " + reason})
		return
	}
	if err != nil {
		h.Fail(c, err)
		return
	}
	h.Metrics.EventsIngested.WithLabelValues("stored").Add(float64(res.Stored))
	h.Metrics.EventsIngested.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	c.JSON(http.StatusOK, gin.H{"success": true, "eventsReceived": len(events)})
}

// TooLarge answers a body over the limit, whether its declared length
// said so or reading it found out.
func TooLarge(c *gin.Context, limit int64) {
	c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": "Payload too large",
		"detail": "the body is larger than " + strconv.FormatInt(limit, 10) + " bytes"})
}
