package app

import (
	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// fail answers an API request with the JSON error for err (httpx.Fail,
// with the server's logger).
func (s *Server) fail(c *gin.Context, err error) { httpx.Fail(s.log, c, err) }
