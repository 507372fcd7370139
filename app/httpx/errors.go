package httpx

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// Error is an error with the status and JSON body it should produce.
type Error struct {
	Status int
	// Msg is what the client is told.
	Msg string
	// Field names the request field at fault, if one is.
	Field string
}

func (e *Error) Error() string { return e.Msg }

// NotFound is a 404 that says msg.
func NotFound(msg string) error { return &Error{Status: http.StatusNotFound, Msg: msg} }

// BadRequest is a 400 that blames field.
func BadRequest(field, msg string) error {
	return &Error{Status: http.StatusBadRequest, Msg: msg, Field: field}
}

// ErrorBody is the JSON every 4xx and 5xx of the admin API carries.
type ErrorBody struct {
	Error    string            `json:"error"`
	Field    string            `json:"field,omitempty"`
	Problems []journey.Problem `json:"problems,omitempty"`
}

// Fail answers an API request with the JSON error for err.
func Fail(log *slog.Logger, c *gin.Context, err error) {
	status, body := Classify(log, c, err)
	c.AbortWithStatusJSON(status, body)
}

// Classify maps an error to its HTTP status and what the client is told:
// the one place where errors of the models and journey packages become
// status codes, for the API (Fail) and the UI (failPage) alike. Unexpected
// errors are logged here and told as "internal error".
func Classify(log *slog.Logger, c *gin.Context, err error) (int, ErrorBody) {
	var he *Error
	var ve *models.ValidationError
	var ce *models.ConflictError
	var ie *journey.InvalidError
	var pe *journey.PublishError
	var ne *models.NotFoundError
	var soon *models.TooSoonError
	switch {
	case errors.As(err, &he):
		return he.Status, ErrorBody{Error: he.Msg, Field: he.Field}
	case errors.As(err, &ie):
		return http.StatusBadRequest, problemsBody("the journey is not valid", ie.Problems)
	case errors.As(err, &pe):
		return http.StatusUnprocessableEntity, problemsBody("the journey cannot be published", pe.Problems)
	case errors.As(err, &ve):
		return http.StatusBadRequest, ErrorBody{Error: ve.Message, Field: ve.Field}
	case errors.As(err, &ce):
		return http.StatusConflict, ErrorBody{Error: ce.Message, Field: ce.Field}
	case errors.As(err, &ne):
		return http.StatusNotFound, ErrorBody{Error: ne.Message}
	case errors.As(err, &soon):
		c.Header("Retry-After", strconv.Itoa(int(soon.Retry.Seconds())+1))
		return http.StatusTooManyRequests, ErrorBody{Error: soon.Message}
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Error: "not found"}
	}
	if reason, bad := models.DataError(err); bad {
		// A value PostgreSQL refused that no check caught first: still the
		// client's value, so a 400, but logged, as the check is missing.
		log.WarnContext(c.Request.Context(), "value refused by the database", "request_id", c.GetString(CtxRequestID), "error", err)
		return http.StatusBadRequest, ErrorBody{Error: "a value cannot be stored: " + reason}
	}
	if models.Unavailable(err) {
		// PostgreSQL is restarting or out of reach: say so, so clients
		// (and load balancers) retry rather than give up.
		log.WarnContext(c.Request.Context(), "database unavailable", "request_id", c.GetString(CtxRequestID), "error", err)
		c.Header("Retry-After", "5")
		return http.StatusServiceUnavailable, ErrorBody{Error: "temporarily unavailable; try again shortly"}
	}
	log.ErrorContext(c.Request.Context(), "request failed", "request_id", c.GetString(CtxRequestID), "error", err)
	return http.StatusInternalServerError, ErrorBody{Error: "internal error"}
}

// problemsBody tells a journey's problems: the first in the message and
// the field (nodes.<node>.<field>), all of them in problems.
func problemsBody(msg string, ps []journey.Problem) ErrorBody {
	field := ps[0].Field
	if ps[0].Node != "" {
		field = "nodes." + ps[0].Node
		if ps[0].Field != "" {
			field += "." + ps[0].Field
		}
	}
	return ErrorBody{Error: msg + ": " + ps[0].String(), Field: field, Problems: ps}
}

// NotFoundAs words ErrNotFound for the thing at hand.
func NotFoundAs(err error, msg string) error {
	if errors.Is(err, models.ErrNotFound) {
		return NotFound(msg)
	}
	return err
}
