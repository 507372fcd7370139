package ui

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// maxReplaySelected bounds a "Replay selected": a log page lists 50.
const maxReplaySelected = 500

// DeliveryReplayForm sends deliveries again from the first attempt: the
// ones named by delivery_id (one row's Replay, or the log's "Replay
// selected", which posts scope=selected), or every failed one of the
// webhook when no delivery is named and none was meant to be.
func (s *Handlers) DeliveryReplayForm(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	back := backTo(c.PostForm("back"), "/webhooks/"+strconv.FormatInt(w.ID, 10))
	ids := slices.DeleteFunc(c.PostFormArray("delivery_id"), func(v string) bool { return v == "" })
	selected := c.PostForm("scope") == "selected"
	switch {
	case selected && len(ids) == 0:
		s.setFlash(c, "error", "Nothing was replayed: select the deliveries to send again first.")
		c.Redirect(http.StatusSeeOther, back)
		return
	case len(ids) > maxReplaySelected:
		s.FailPage(c, httpx.BadRequest("delivery_id", fmt.Sprintf("select at most %d deliveries at a time", maxReplaySelected)))
		return
	}
	parsed, err := models.ParseDeliveryIDs(ids)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	parsed = slices.Compact(slices.SortedFunc(slices.Values(parsed), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }))
	n, err := s.webhooks(c).Replay(c.Request.Context(), w, parsed)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	s.setFlash(c, replayTone(n, selected), replayMessage(n, len(parsed), selected, w.Status == models.StatusActive))
	c.Redirect(http.StatusSeeOther, back)
}

// replayTone is a failure's when a selection replayed nothing.
func replayTone(n int64, selected bool) string {
	if n == 0 && selected {
		return "error"
	}
	return "ok"
}

// replayMessage says how many deliveries were queued again, of how many
// were selected: the others were not failed or delivered (still on their
// way), and a replay leaves those alone.
func replayMessage(n int64, asked int, selected, active bool) string {
	what := plural(n, "delivery", "deliveries")
	later := ""
	if !active {
		later = " They go out when the webhook is enabled."
	}
	skipped := int64(asked) - n
	switch {
	case selected && n == 0:
		return fmt.Sprintf("Nothing was replayed: none of the %d selected is failed or delivered (still on its way).", asked)
	case selected && skipped > 0:
		return fmt.Sprintf("Queued %d of %d selected for replay; %d not failed or delivered (still on its way) left as is.%s",
			n, asked, skipped, later)
	case selected:
		return fmt.Sprintf("Queued %s for replay.%s", what, later)
	case n == 0:
		return "Nothing to replay."
	case !active:
		return fmt.Sprintf("%s will go out again when the webhook is enabled.", what)
	}
	return fmt.Sprintf("Sending %s again.", what)
}

// backTo is where a post returns: back, the page it came from with its
// filter, when that is home or one of its deliveries; else home's log.
func backTo(back, home string) string {
	if p := localPath(back); p == back && (strings.HasPrefix(p, home+"?") || strings.HasPrefix(p, home+"#") ||
		strings.HasPrefix(p, home+"/deliveries/dlv_")) {
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
