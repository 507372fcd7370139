package ui

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// The delivery log of a webhook's page, its list fragment (auto-refresh)
// and its CSV export read the same filter and search, here.

// deliveryRow is a delivery with the request that last carried it and the
// name of the journey that made it.
type deliveryRow struct {
	models.Delivery
	Last *models.Attempt
	// Journey names the journey that made it; "" for none.
	Journey string
}

// maxSearch bounds what the log's search box takes, in characters.
const maxSearch = 200

// values are the filter's query parameters, as typed.
func (f *logFilter) values() map[string]string {
	return map[string]string{"status": f.Status, "outcome": f.Outcome, "since": f.Since, "until": f.Until, "q": f.Q}
}

// deliveryQuery reads the delivery log's filter and search from the URL
// into the store's filter. A part that cannot be read is reported next to
// its field (fl.Errors) and not applied; a search that finds nothing of
// the panel's sets fl.NoMatch.
func (s *Handlers) deliveryQuery(c *gin.Context, limit int) (logFilter, models.DeliveryFilter, error) {
	fl, since, until := readLogFilter(c)
	f := models.DeliveryFilter{Since: since, Until: until, Limit: limit}
	switch st := models.DeliveryStatus(fl.Status); st {
	case "", models.DeliveryPending, models.DeliveryDelivered, models.DeliveryFailed, models.DeliveryHeld:
		f.Status = st
	case models.DeliverySending:
		// No row is stored as sending since issue 15: listing it would
		// always be empty, as if nothing were on its way.
		fl.Errors["status"] = "A delivery on its way is pending until its answer: pick pending."
	default:
		fl.Errors["status"] = "Pick a status from the list."
	}
	if fl.Q == "" {
		return fl, f, nil
	}
	err := s.searchLog(c, &fl, &f)
	return fl, f, err
}

// searchLog narrows f to the delivery or the contact fl.Q names: a
// delivery_id, else a contact's external id, e-mail or phone (as the
// contact page finds them). Another panel's never matches.
func (s *Handlers) searchLog(c *gin.Context, fl *logFilter, f *models.DeliveryFilter) error {
	switch {
	case utf8.RuneCountInString(fl.Q) > maxSearch:
		fl.Errors["q"] = fmt.Sprintf("Too long: search for at most %d characters.", maxSearch)
		fl.NoMatch = true
	case strings.HasPrefix(fl.Q, "dlv_"):
		id, err := models.ParseDeliveryID(fl.Q)
		if err != nil {
			fl.Errors["q"] = "Not a delivery id: dlv_ and 26 letters and digits."
			fl.NoMatch = true
			return nil
		}
		f.ID = id
	default:
		ct, err := s.findContact(c, httpx.PanelOf(c).ID, fl.Q)
		switch {
		case errors.Is(err, models.ErrNotFound):
			fl.NoMatch = true
		case err != nil:
			return err
		default:
			fl.Contact, f.ContactID = ct, ct.ID
		}
	}
	return nil
}

// deliveryRows lists a webhook's deliveries as the filter asks, each with
// its last request and journey name.
func (s *Handlers) deliveryRows(c *gin.Context, w *models.Webhook, f models.DeliveryFilter) ([]deliveryRow, error) {
	ctx := c.Request.Context()
	rows, err := s.store.ListDeliveries(ctx, w.PanelID, w.ID, f)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	var ids []int64
	for _, d := range rows {
		if d.LastAttemptID != nil {
			ids = append(ids, *d.LastAttemptID)
		}
	}
	last, err := s.store.AttemptsByID(ctx, w.PanelID, ids)
	if err != nil {
		return nil, err
	}
	names, err := s.journeyNames(c)
	if err != nil {
		return nil, err
	}
	out := make([]deliveryRow, 0, len(rows))
	for _, d := range rows {
		row := deliveryRow{Delivery: d}
		if d.LastAttemptID != nil {
			if a, ok := last[*d.LastAttemptID]; ok {
				row.Last = &a
			}
		}
		if d.JourneyID != nil {
			row.Journey = names[*d.JourneyID]
		}
		out = append(out, row)
	}
	return out, nil
}

// journeyNames are the names of the panel's journeys by id.
func (s *Handlers) journeyNames(c *gin.Context) (map[int64]string, error) {
	js, err := s.store.ListJourneys(c.Request.Context(), httpx.PanelOf(c).ID, models.JourneysAll)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(js))
	for _, j := range js {
		out[j.ID] = j.Name
	}
	return out, nil
}

// listDeliveries fills the page's delivery log: one page, newest first,
// keyset-paginated on the delivery id (?cursor=).
func (s *Handlers) listDeliveries(c *gin.Context, p *webhookPage) error {
	fl, f, err := s.deliveryQuery(c, uiPageSize)
	p.Filter = fl
	if err != nil {
		return err
	}
	if cur := c.Query("cursor"); cur != "" {
		id, err := models.ParseDeliveryID(cur)
		if err != nil {
			return httpx.BadRequest("cursor", "this page link is broken; start from the newest")
		}
		f.Before, p.cursor = id, cur
		p.Newest = p.logURL(nil)
	}
	if fl.NoMatch {
		return nil
	}
	if p.Deliveries, err = s.deliveryRows(c, p.Webhook, f); err != nil {
		return err
	}
	if len(p.Deliveries) == uiPageSize {
		p.Older = p.logURL(url.Values{"cursor": {models.DeliveryID(p.Deliveries[len(p.Deliveries)-1].ID)}})
	}
	return nil
}

// logQuery is the delivery log's filter as query parameters.
func (p *webhookPage) logQuery() url.Values {
	q := url.Values{}
	for k, v := range p.Filter.values() {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// ExportURL is the CSV of the log as filtered.
func (p *webhookPage) ExportURL() string {
	return "/webhooks/" + strconv.FormatInt(p.Webhook.ID, 10) + "/deliveries.csv?" + p.logQuery().Encode()
}

// PartURL is the log's rows as filtered, this page of them, for the
// page's script to fetch again.
func (p *webhookPage) PartURL() string {
	q := p.logQuery()
	q.Set("range", p.Range.Key) // for the rows' links back to the page
	if p.cursor != "" {
		q.Set("cursor", p.cursor)
	}
	return "/webhooks/" + strconv.FormatInt(p.Webhook.ID, 10) + "/deliveries?" + q.Encode()
}

// Replayable says whether a delivery can be sent again by hand.
func (r deliveryRow) Replayable() bool {
	return r.Status == models.DeliveryFailed || r.Status == models.DeliveryDelivered
}

// Retrying says whether a delivery failed and waits for another attempt.
func (r deliveryRow) Retrying() bool { return r.Status == models.DeliveryPending && r.Attempts > 0 }

// PublicID is the delivery_id receivers see.
func (r deliveryRow) PublicID() string { return models.DeliveryID(r.ID) }

// shortID abbreviates a delivery id for a table cell; the full one is in its title.
func shortID(id uuid.UUID) string {
	s := models.DeliveryID(id)
	return s[:4] + "…" + s[len(s)-8:]
}
