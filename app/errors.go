package app

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// httpError is an error with the status and JSON body it should produce.
type httpError struct {
	status   int
	msg      string
	field    string
	problems []journey.Problem
}

func (e *httpError) Error() string { return e.msg }

func errNotFound(msg string) error { return &httpError{status: http.StatusNotFound, msg: msg} }

func errBadRequest(field, msg string) error {
	return &httpError{status: http.StatusBadRequest, msg: msg, field: field}
}

// errorBody is the JSON every 4xx and 5xx of the admin API carries.
type errorBody struct {
	Error    string            `json:"error"`
	Field    string            `json:"field,omitempty"`
	Problems []journey.Problem `json:"problems,omitempty"`
}

// fail answers an API request with the JSON error for err.
func (s *Server) fail(c *gin.Context, err error) {
	status, body := s.classify(c, err)
	c.AbortWithStatusJSON(status, body)
}

// classify maps an error to its HTTP status and what the client is told:
// the one place where errors of the models package become status codes,
// for the API (fail) and the UI (failPage) alike. Unexpected errors are
// logged here and told as "internal error".
func (s *Server) classify(c *gin.Context, err error) (int, errorBody) {
	var he *httpError
	var ve *models.ValidationError
	var ce *models.ConflictError
	switch {
	case errors.As(err, &he):
		return he.status, errorBody{Error: he.msg, Field: he.field, Problems: he.problems}
	case errors.As(err, &ve):
		return http.StatusBadRequest, errorBody{Error: ve.Message, Field: ve.Field}
	case errors.As(err, &ce):
		return http.StatusConflict, errorBody{Error: ce.Message, Field: ce.Field}
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, errorBody{Error: "not found"}
	}
	if reason, bad := models.DataError(err); bad {
		// A value PostgreSQL refused that no check caught first: still the
		// client's value, so a 400, but logged, as the check is missing.
		s.log.WarnContext(c.Request.Context(), "value refused by the database", "request_id", c.GetString(ctxRequestID), "error", err)
		return http.StatusBadRequest, errorBody{Error: "a value cannot be stored: " + reason}
	}
	if models.Unavailable(err) {
		// PostgreSQL is restarting or out of reach: say so, so clients
		// (and load balancers) retry rather than give up.
		s.log.WarnContext(c.Request.Context(), "database unavailable", "request_id", c.GetString(ctxRequestID), "error", err)
		c.Header("Retry-After", "5")
		return http.StatusServiceUnavailable, errorBody{Error: "temporarily unavailable; try again shortly"}
	}
	s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", c.GetString(ctxRequestID), "error", err)
	return http.StatusInternalServerError, errorBody{Error: "internal error"}
}

// notFoundAs words ErrNotFound for the thing at hand.
func notFoundAs(err error, msg string) error {
	if errors.Is(err, models.ErrNotFound) {
		return errNotFound(msg)
	}
	return err
}
