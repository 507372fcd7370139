package app

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/app/ui"
	"github.com/heraldhq/herald/models"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestLog gives every request an id (kept from X-Request-Id when sane)
// and logs one line when it ends. Paths are logged without query strings,
// which may carry data a person did not mean to log, and an invitation
// link as its route, without its token.
func (s *Server) requestLog(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-Id")
	if !requestIDPattern.MatchString(id) {
		id = models.NewULID(start).String()
	}
	c.Set(httpx.CtxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
	attrs := []any{"request_id", id, "method", c.Request.Method, "path", ui.LoggedPath(c.Request.URL.Path),
		"status", c.Writer.Status(), "duration_ms", time.Since(start).Milliseconds()}
	if p, ok := c.Get(httpx.CtxPanel); ok {
		attrs = append(attrs, "panel", p.(*models.Panel).Name)
	}
	s.log.InfoContext(c.Request.Context(), "http request", attrs...)
}

// recoverJSON turns a panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			s.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// limitBody caps every request body; a declared length over the cap is
// refused before anything is read, with the answer the route gives for a
// body that turns out too long while it is read. Either way the 413 waits
// for the rest of the body (lingerOn413), so that clients that write the
// whole body before reading get it.
func (s *Server) limitBody(c *gin.Context) {
	lingerOn413(c)
	if c.Request.ContentLength > s.cfg.MaxBodyBytes {
		s.tooLarge(c, s.cfg.MaxBodyBytes)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
	c.Next()
}

// adminAuth admits requests with a live admin token and remembers its panel:
// every handler behind it sees that panel's data only.
func (s *Server) adminAuth(c *gin.Context) {
	token := httpx.Bearer(c)
	if token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="herald"`)
		s.fail(c, &httpx.Error{Status: http.StatusUnauthorized, Msg: "missing API token: send Authorization: Bearer <token>"})
		return
	}
	panel, err := s.authenticate(c, models.TokenAdmin, token)
	if errors.Is(err, models.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
		s.fail(c, &httpx.Error{Status: http.StatusUnauthorized, Msg: "invalid or revoked API token"})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Set(httpx.CtxPanel, panel)
	c.Next()
}

// ErrTooManyLookups is authenticate's answer to a client address over
// AuthRateLimit: a 429, with Retry-After set.
var ErrTooManyLookups = &httpx.Error{Status: http.StatusTooManyRequests, Msg: "too many unknown API tokens from this address; wait and try again"}

// authenticate finds the panel of a token, as Store.Authenticate does,
// and spends the client address's AuthRateLimit on each lookup it makes
// in the database (a token not seen lately): none for a token in the
// store's cache, which is how a live integration's requests go. When
// Redis cannot answer the lookup goes ahead, as for every limit.
func (s *Server) authenticate(c *gin.Context, kind models.TokenKind, token string) (*models.Panel, error) {
	if p := s.store.CachedAuth(kind, token); p != nil {
		return p, nil
	}
	if s.shares != nil {
		ok, wait, err := s.shares.Allow(c.Request.Context(), "auth:"+c.ClientIP(), s.cfg.AuthRateLimit, time.Minute)
		if err != nil {
			s.log.WarnContext(c.Request.Context(), "rate limiter unavailable; token lookup allowed", "error", err)
		}
		if !ok {
			c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			return nil, ErrTooManyLookups
		}
	}
	return s.store.Authenticate(c.Request.Context(), kind, token)
}

// adminRateLimit bounds requests per panel across all replicas. When Redis
// cannot answer the request goes through: the limit protects Herald, and
// refusing every request would be the larger harm.
func (s *Server) adminRateLimit(c *gin.Context) {
	s.rateLimit(c, "admin:"+strconv.FormatInt(httpx.PanelOf(c).ID, 10), s.cfg.AdminRateLimit,
		httpx.ErrorBody{Error: "rate limit exceeded"})
}

// rateLimit takes a request from the budget named key in this replica's
// share of it: a busy panel costs one Redis call a grant, not one a request.
func (s *Server) rateLimit(c *gin.Context, key string, perMinute int, refusal any) {
	if s.shares == nil {
		c.Next()
		return
	}
	ok, wait, err := s.shares.Allow(c.Request.Context(), key, perMinute, time.Minute)
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "rate limiter unavailable; request allowed", "error", err)
	}
	if !ok {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		c.AbortWithStatusJSON(http.StatusTooManyRequests, refusal)
		return
	}
	c.Next()
}

// healthz answers 200 when the database answers.
func (s *Server) healthz(c *gin.Context) {
	if err := s.store.Ping(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": "database unreachable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// metricsHandler serves Prometheus metrics: aggregates only, no panel's
// data. With MetricsToken set it wants that Bearer token.
func (s *Server) metricsHandler(c *gin.Context) {
	if s.cfg.MetricsToken != "" && subtle.ConstantTimeCompare([]byte(httpx.Bearer(c)), []byte(s.cfg.MetricsToken)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="herald metrics"`)
		s.fail(c, &httpx.Error{Status: http.StatusUnauthorized, Msg: "missing or wrong metrics token"})
		return
	}
	promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP(c.Writer, c.Request)
}
