package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// JourneyDelete deletes a draft that never ran: 204. A journey that ran
// is kept (409): stop and archive it instead.
func (s *Handlers) JourneyDelete(c *gin.Context) {
	id, err := httpx.IDParam(c, "journey")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.DeleteJourney(c.Request.Context(), httpx.PanelOf(c).ID, id); err != nil {
		s.fail(c, httpx.NotFoundAs(err, "journey not found"))
		return
	}
	c.Status(http.StatusNoContent)
}
