package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/models"
)

// DeliveryReplayForm sends deliveries again from the first attempt: the
// one named by delivery_id, or every failed one of the webhook.
func (s *Handlers) DeliveryReplayForm(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	var ids []string
	if id := c.PostForm("delivery_id"); id != "" {
		ids = []string{id}
	}
	parsed, err := models.ParseDeliveryIDs(ids)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	n, err := s.webhooks(c).Replay(c.Request.Context(), w, parsed)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	msg := fmt.Sprintf("Sending %s again.", plural(n, "delivery", "deliveries"))
	switch {
	case n == 0:
		msg = "Nothing to replay."
	case w.Status != models.StatusActive:
		msg = fmt.Sprintf("%s will go out again when the webhook is enabled.", plural(n, "delivery", "deliveries"))
	}
	s.setFlash(c, "ok", msg)
	c.Redirect(http.StatusSeeOther, backTo(c.PostForm("back"), "/webhooks/"+strconv.FormatInt(w.ID, 10)))
}

// backTo is where a post returns: back, the page it came from with its
// filter, when that is a page under home; else home's log.
func backTo(back, home string) string {
	if p := localPath(back); p == back && (strings.HasPrefix(p, home+"?") || strings.HasPrefix(p, home+"#")) {
		return p
	}
	return home + "#logs"
}

// plural writes a count with its noun: 1 delivery, 2 deliveries.
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
