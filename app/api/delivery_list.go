package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// DeliveryList lists a webhook's deliveries, newest first, filtered by
// status and time, a page at a time (next_cursor feeds ?cursor=).
func (s *Handlers) DeliveryList(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var f models.DeliveryFilter
	if f.Status, err = deliveryStatusParam(c); err == nil {
		if f.Since, f.Until, err = timeRange(c); err == nil {
			f.Limit, err = limitParam(c)
		}
	}
	if err == nil && c.Query("cursor") != "" {
		f.Before, err = models.ParseDeliveryID(c.Query("cursor"))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.store.ListDeliveries(c.Request.Context(), w.PanelID, w.ID, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]deliveryJSON, len(rows))
	for i := range rows {
		out[i] = newDeliveryJSON(&rows[i])
	}
	var next *string
	if len(rows) == f.Limit {
		cursor := models.DeliveryID(rows[len(rows)-1].ID)
		next = &cursor
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out, "next_cursor": next})
}

func deliveryStatusParam(c *gin.Context) (models.DeliveryStatus, error) {
	st := models.DeliveryStatus(c.Query("status"))
	switch st {
	case "", models.DeliveryPending, models.DeliverySending, models.DeliveryDelivered, models.DeliveryFailed, models.DeliveryHeld:
		return st, nil
	}
	return "", httpx.BadRequest("status", "must be pending, sending, delivered, failed or held")
}

// timeRange reads ?since= and ?until= as RFC 3339 times.
func timeRange(c *gin.Context) (since, until time.Time, err error) {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &since}, {"until", &until}} {
		if v := c.Query(p.name); v != "" {
			if *p.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return since, until, httpx.BadRequest(p.name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
		}
	}
	return since, until, nil
}

// limitParam reads ?limit=, 1 to 500, default 100.
func limitParam(c *gin.Context) (int, error) {
	v := c.DefaultQuery("limit", "100")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, httpx.BadRequest("limit", "must be between 1 and 500")
	}
	return n, nil
}
