package app

import (
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

var sourcePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ingest accepts events from apps, CRMs and channel providers: POST
// /v1/webhook/{source}. The events are in PostgreSQL before the 200;
// workers then process them for journeys. Its answers are fixed by
// contract: see the README.
func (s *Server) ingest(c *gin.Context) {
	ctx := c.Request.Context()
	panel, err := s.store.Authenticate(ctx, models.TokenIngest, bearer(c))
	if errors.Is(err, models.ErrNotFound) {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "Unauthorized"})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(ctxPanel, panel)
	limit := s.cfg.IngestRateLimit
	if panel.IngestRateLimit != nil {
		limit = *panel.IngestRateLimit
	}
	s.rateLimit(c, "ingest:"+strconv.FormatInt(panel.ID, 10), limit, gin.H{"error": "Rate limit exceeded"})
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
		ingestTooLarge(c, tooBig.Limit)
		return
	}
	if err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload", "detail": "the body could not be read"})
		return
	}
	events, err := parseIngest(c.ContentType(), body, s.now())
	var bad *invalidPayload
	if errors.As(err, &bad) {
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload", "detail": bad.detail})
		return
	}
	res, err := s.engine.Accept(ctx, panel, source, events)
	if reason, bad := models.DataError(err); bad {
		// A value the parser let through and PostgreSQL refused: the
		// sender's fault, and this request's alone (see insertGroup).
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload",
			"detail": "an event holds a value that cannot be stored: " + reason})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.EventsIngested.WithLabelValues("stored").Add(float64(res.Stored))
	s.metrics.EventsIngested.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	c.JSON(http.StatusOK, gin.H{"success": true, "eventsReceived": len(events)})
}

// ingestTooLarge answers a body over the limit, whether its declared length
// said so or reading it found out.
func ingestTooLarge(c *gin.Context, limit int64) {
	c.AbortWithStatusJSON(http.StatusRequestEntityTooLarge, gin.H{"error": "Payload too large",
		"detail": "the body is larger than " + strconv.FormatInt(limit, 10) + " bytes"})
}
