package ui

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
)

// PanelSwitch moves the session to another of the user's panels. It lands
// on the webhook list: ids in the page the user was on belong to the panel
// they left.
func (s *Handlers) PanelSwitch(c *gin.Context) {
	id, err := strconv.ParseInt(c.PostForm("panel"), 10, 64)
	if err != nil {
		s.FailPage(c, httpx.NotFound("panel not found"))
		return
	}
	if err := s.store.SwitchPanel(c.Request.Context(), sessionOf(c).ID, id); err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "panel not found"))
		return
	}
	c.Redirect(http.StatusSeeOther, "/webhooks")
}
