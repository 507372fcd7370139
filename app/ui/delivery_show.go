package ui

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// deliveryPage is one delivery of a webhook: what it carries, for whom,
// and the timeline of the requests that carried it. Its page and the
// delivery log's drawer show it alike (templates/delivery_detail.html).
type deliveryPage struct {
	Webhook  *models.Webhook
	Delivery deliveryRow
	Contact  *models.Contact
	Timeline []timelineEntry
	// Back is the log this page was opened from, as filtered.
	Back string
}

// timelineEntry is one request that carried the delivery.
type timelineEntry struct {
	models.Attempt
	// Excerpt is the start of the response body; Cut says there was more.
	Excerpt string
	Cut     bool
}

// excerptRunes is how much of a response body the timeline shows.
const excerptRunes = 1000

// DeliveryShow shows one delivery of a webhook with its attempt timeline.
// Another panel's or webhook's delivery is not found.
func (s *Handlers) DeliveryShow(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	id, err := models.ParseDeliveryID(c.Param("delivery"))
	if err != nil {
		s.FailPage(c, httpx.NotFound("delivery not found"))
		return
	}
	p, err := s.deliveryDetail(c, w, id)
	if err != nil {
		s.FailPage(c, httpx.NotFoundAs(err, "delivery not found"))
		return
	}
	p.Back = backTo(c.Query("back"), "/webhooks/"+strconv.FormatInt(w.ID, 10))
	s.render(c, http.StatusOK, "delivery", models.DeliveryID(id), "webhooks", p)
}

// deliveryDetail gathers delivery id of webhook w with its contact,
// journey name and attempt timeline; models.ErrNotFound when w has no
// such delivery.
func (s *Handlers) deliveryDetail(c *gin.Context, w *models.Webhook, id uuid.UUID) (*deliveryPage, error) {
	ctx := c.Request.Context()
	d, err := s.store.WebhookDelivery(ctx, w.PanelID, w.ID, id)
	if err != nil {
		return nil, err
	}
	p := &deliveryPage{Webhook: w, Delivery: deliveryRow{Delivery: *d}}
	if d.JourneyID != nil {
		// One journey's name, not every journey of the panel; a deleted
		// journey leaves it blank.
		j, err := s.store.Journey(ctx, w.PanelID, *d.JourneyID)
		switch {
		case err == nil:
			p.Delivery.Journey = j.Name
		case !errors.Is(err, models.ErrNotFound):
			return nil, err
		}
	}
	if d.ContactID != nil {
		if p.Contact, err = s.store.ContactByID(ctx, w.PanelID, *d.ContactID); err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
	}
	attempts, err := s.store.DeliveryTimeline(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, a := range attempts {
		e := timelineEntry{Attempt: a, Excerpt: a.ResponseBody}
		if utf8.RuneCountInString(a.ResponseBody) > excerptRunes {
			e.Excerpt, e.Cut = string([]rune(a.ResponseBody)[:excerptRunes]), true
		}
		p.Timeline = append(p.Timeline, e)
		if d.LastAttemptID != nil && a.ID == *d.LastAttemptID {
			p.Delivery.Last = &a
		}
	}
	return p, nil
}

// ReplayBack is where a replay posted from this page returns: here.
func (p *deliveryPage) ReplayBack() string {
	return "/webhooks/" + strconv.FormatInt(p.Webhook.ID, 10) + "/deliveries/" + p.Delivery.PublicID()
}
