package ui

import (
	"encoding/csv"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// Export bounds: the CSV holds at most maxExportRows deliveries, newest
// first (README, "Web UI"), read exportPage at a time, so a webhook with
// millions of rows neither fills memory nor holds one long query open.
const (
	maxExportRows = 100_000
	exportPage    = 1000
)

// exportHeader is the CSV's first row.
var exportHeader = []string{"delivery_id", "created_at", "status", "attempts", "last_status_code", "last_error",
	"journey_id", "journey", "event", "contact_id", "delivered_at", "next_attempt_at"}

// DeliveryExport streams a webhook's delivery log as CSV, filtered and
// searched as the page is. Times are UTC (RFC 3339). A cell a spreadsheet
// would read as a formula (it starts with = + - @, a tab or a carriage
// return) is prefixed with ' so it stays text.
func (s *Handlers) DeliveryExport(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	fl, f, err := s.deliveryQuery(c, exportPage)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	// The page shows a field it cannot read and leaves it out; a file
	// cannot, and an export of more than was asked for would mislead.
	if len(fl.Errors) > 0 {
		field := slices.Sorted(maps.Keys(fl.Errors))[0]
		s.FailPage(c, httpx.BadRequest(field, strings.TrimSuffix(fl.Errors[field], ".")))
		return
	}
	names, err := s.journeyNames(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="webhook-%d-deliveries.csv"`, w.ID))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	out := csv.NewWriter(c.Writer)
	_ = out.Write(exportHeader)
	for written := 0; !fl.NoMatch && written < maxExportRows; {
		f.Limit = min(exportPage, maxExportRows-written)
		rows, err := s.store.ListDeliveries(c.Request.Context(), w.PanelID, w.ID, f)
		if err != nil {
			// Headers are gone: the cut file and the log must say it.
			s.log.ErrorContext(c.Request.Context(), "delivery export cut short", "webhook_id", w.ID, "rows", written, "error", err)
			_ = out.Write([]string{"# export cut short by an error after " + strconv.Itoa(written) + " rows"})
			break
		}
		for i := range rows {
			if err := out.Write(exportRow(&rows[i], names)); err != nil {
				return // the client went away
			}
		}
		out.Flush()
		written += len(rows)
		if len(rows) < f.Limit {
			break
		}
		f.Before = rows[len(rows)-1].ID
	}
	out.Flush()
}

// exportRow is one delivery as CSV cells.
func exportRow(d *models.Delivery, journeys map[int64]string) []string {
	journeyID, journey, contact := "", "", ""
	if d.JourneyID != nil {
		journeyID, journey = strconv.FormatInt(*d.JourneyID, 10), journeys[*d.JourneyID]
	}
	if d.ContactID != nil {
		contact = strconv.FormatInt(*d.ContactID, 10)
	}
	next := "" // only a row waiting to go out has a next attempt
	if d.Status == models.DeliveryPending {
		next = csvTime(d.NextAttemptAt)
	}
	code := ""
	if d.LastStatusCode != 0 {
		code = strconv.Itoa(d.LastStatusCode)
	}
	return []string{models.DeliveryID(d.ID), csvTime(d.CreatedAt), string(d.Status), strconv.Itoa(d.Attempts), code,
		cellText(d.LastError), journeyID, cellText(journey), cellText(d.EventName), contact, csvTimePtr(d.DeliveredAt),
		next}
}

// cellText keeps a text cell text in a spreadsheet: one that would start
// a formula gets a leading '.
func cellText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func csvTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func csvTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return csvTime(*t)
}
