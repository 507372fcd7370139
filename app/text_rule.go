package app

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/app/ingest"
	"github.com/heraldhq/herald/app/textrule"
	"github.com/heraldhq/herald/app/ui"
)

// checkRequestText applies the rule to a request's query string and, on
// the UI's routes, to its form; JSON bodies are checked as they are
// decoded (decodeJSON, ingest.Parse). The ingest API reads its own body.
func (s *Server) checkRequestText(c *gin.Context) {
	query, _ := url.ParseQuery(c.Request.URL.RawQuery) // what could be read; c.Query reads the same
	bad := textrule.CheckForm(query)
	if bad == nil && s.isUI(c) && (c.Request.Method == http.MethodPost || c.Request.Method == http.MethodPut ||
		c.Request.Method == http.MethodPatch) {
		// Read here, the form is what handlers find in c.PostForm.
		// (ParseMultipartForm alone would hide ParseForm's errors.)
		err := c.Request.ParseForm()
		if err == nil && strings.HasPrefix(c.ContentType(), "multipart/") {
			err = c.Request.ParseMultipartForm(32 << 20)
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(c, tooBig.Limit)
			return
		}
		bad = textrule.CheckForm(c.Request.PostForm)
	}
	if bad == nil {
		c.Next()
		return
	}
	switch {
	case c.FullPath() == ingest.Path:
		c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "Invalid payload", "detail": bad.Error()})
	case !s.isUI(c) || ui.WantsJSON(c):
		s.fail(c, httpx.TextError(bad))
	default:
		name := "the form"
		if bad.Path != "" {
			name = strconv.Quote(bad.Path)
		}
		s.marketer.FailPage(c, &httpx.Error{Status: http.StatusBadRequest, Field: bad.Path,
			Msg: fmt.Sprintf("%s %s: %s", name, bad.What, textrule.Rule)})
	}
}

// isUI reports whether the request is for the marketer UI, which answers
// with pages, rather than for the admin or ingest API.
func (s *Server) isUI(c *gin.Context) bool {
	p := c.Request.URL.Path
	return !strings.HasPrefix(p, "/api/") && !strings.HasPrefix(p, "/v1/") && p != "/metrics" && p != "/healthz"
}

// tooLarge answers a body over the cap (limit bytes) as the route answers
// errors: the ingest API's JSON, the admin API's, or a page.
func (s *Server) tooLarge(c *gin.Context, limit int64) {
	err := &httpx.Error{Status: http.StatusRequestEntityTooLarge,
		Msg: "request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"}
	switch {
	case c.FullPath() == ingest.Path:
		ingest.TooLarge(c, limit)
	case !s.isUI(c) || ui.WantsJSON(c):
		s.fail(c, err)
	default:
		s.marketer.FailPage(c, err)
	}
}
