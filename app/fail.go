package app

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// fail answers an API request with the JSON error for err (httpx.Fail,
// with the server's logger).
func (s *Server) fail(c *gin.Context, err error) { httpx.Fail(s.log, c, err) }

// classify is httpx.Classify with the server's logger.
func (s *Server) classify(c *gin.Context, err error) (int, httpx.ErrorBody) {
	return httpx.Classify(s.log, c, err)
}
