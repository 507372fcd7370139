package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// AttemptList lists a webhook's requests, newest first, filtered by outcome
// and time, a page at a time.
func (s *Handlers) AttemptList(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var f models.AttemptFilter
	switch f.Outcome = c.Query("outcome"); f.Outcome {
	case "", models.OutcomeDelivered, models.OutcomeRetry, models.OutcomeFailed:
	default:
		s.fail(c, httpx.BadRequest("outcome", "must be delivered, retry or failed"))
		return
	}
	if f.Since, f.Until, err = timeRange(c); err == nil {
		f.Limit, err = limitParam(c)
	}
	if err == nil && c.Query("cursor") != "" {
		if f.Before, err = strconv.ParseInt(c.Query("cursor"), 10, 64); err != nil {
			err = httpx.BadRequest("cursor", "is not a cursor this API returned")
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.ListAttempts(c.Request.Context(), w.PanelID, w.ID, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]attemptJSON, len(rows))
	for i := range rows {
		out[i] = newAttemptJSON(&rows[i])
	}
	var next *string
	if len(rows) == f.Limit {
		cursor := strconv.FormatInt(rows[len(rows)-1].ID, 10)
		next = &cursor
	}
	c.JSON(http.StatusOK, gin.H{"attempts": out, "next_cursor": next})
}
