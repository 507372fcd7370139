package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/textrule"
	"github.com/heraldhq/herald/models"
)

// DecodeJSON reads the request body into v strictly: unknown fields,
// trailing data, wrong types and text PostgreSQL cannot store (see
// textrule.CheckJSON) are errors that name the field.
func DecodeJSON(c *gin.Context, v any) error {
	body, err := io.ReadAll(c.Request.Body) // capped by the server's body limit
	if err != nil {
		return jsonError(err)
	}
	// The text rule first, so that such text gets the same answer wherever
	// it is; on malformed JSON, the decoder's syntax error comes first.
	if bad := textrule.CheckJSON(body); bad != nil && json.Valid(body) {
		return TextError(bad)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return BadRequest("", "malformed JSON: unexpected data after the object")
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var numbers *models.NumberError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)}
	case errors.Is(err, io.EOF):
		return BadRequest("", "malformed JSON: the body is empty")
	case errors.As(err, &syntax):
		return BadRequest("", fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return BadRequest("", "malformed JSON: the body ends early")
	case errors.As(err, &numbers):
		return BadRequest("", numbers.Error())
	case errors.As(err, &typeErr):
		return BadRequest(typeErr.Field, fmt.Sprintf("must be %s, not JSON %s", typeName(typeErr.Type.String()), typeErr.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return BadRequest(field, "unknown field")
	default:
		return BadRequest("", "malformed JSON: "+err.Error())
	}
}

// typeName says in words what a Go type of a request's field takes.
// (Matching "int" anywhere called an object, map[string]interface {}, a
// whole number.)
func typeName(goType string) string {
	t := strings.TrimPrefix(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	default:
		return "an object"
	}
}

// IDParam reads a numeric path parameter; anything else cannot name a row.
func IDParam(c *gin.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound(what + " not found")
	}
	return id, nil
}

// TextError is the admin API's 400 for text that breaks the text rule:
// the message, and the field.
func TextError(u *textrule.Unstorable) error {
	return BadRequest(u.Path, u.What+": "+textrule.Rule)
}
