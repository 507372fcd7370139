package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// JourneyStats counts, for each step of a journey, the runs that entered it,
// wait there now and took each exit, and its webhook deliveries sent,
// failed and held. Every step of the definition is present, zeros included.
func (s *Handlers) JourneyStats(c *gin.Context) {
	j, err := s.loadJourney(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	nodes, err := s.engine.NodeStats(c.Request.Context(), j)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"nodes": nodes})
}
