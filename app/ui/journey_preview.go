package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// JourneyPreview is the webhook step's live preview: the batch its side
// form, as it stands, would send, built by the engine's code. The page's
// script posts the form on every change and shows the answer.
func (s *Handlers) JourneyPreview(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	n := def.Node(c.Param("node"))
	if n == nil {
		s.fail(c, httpx.NotFound("step not found"))
		return
	}
	_ = c.Request.ParseForm()
	*n, _, _ = stepFromForm(*n, c.Request.PostForm)
	hooks, err := s.store.ListWebhooks(c.Request.Context(), j.PanelID)
	if err != nil {
		s.fail(c, err)
		return
	}
	preview, err := s.previewItem(c, j, def, n.ID, hooks)
	if err != nil {
		s.fail(c, httpx.BadRequest("", err.Error()))
		return
	}
	c.JSON(http.StatusOK, gin.H{"preview": preview})
}
