package ui

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// contactPage answers "why didn't it fire?": a contact's attributes, the
// latest events as received, the journey runs, and for each live or paused
// journey whether the last event entered it, and why (not).
type contactPage struct {
	Query    string
	NotFound bool
	Contact  *models.Contact
	Attrs    []attrRow
	Events   []contactEvent
	Runs     []contactRun
	Last     *contactEvent
	Verdicts []entryVerdict
}

type attrRow struct{ Key, Value string }

type contactEvent struct {
	Event      models.Event
	Properties string
}

type contactRun struct {
	Run     models.Run
	Journey string
}

type entryVerdict struct {
	Journey models.Journey
	journey.EntryAnswer
}

// How much of a contact's history the page shows.
const (
	contactEventLimit = 20
	contactRunLimit   = 50
)

// ContactPage finds a contact by e-mail, phone or external id (?q=), or by
// one of its journey deliveries (?delivery=dlv_...).
func (s *Handlers) ContactPage(c *gin.Context) {
	ctx := c.Request.Context()
	panel := httpx.PanelOf(c)
	p := &contactPage{Query: strings.TrimSpace(c.Query("q"))}
	var err error
	switch d, id := c.Query("delivery"), c.Query("contact"); {
	case id != "":
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil {
			s.FailPage(c, httpx.BadRequest("contact", "is not a contact id"))
			return
		}
		p.Contact, err = s.store.ContactByID(ctx, panel.ID, n)
	case d != "":
		id, perr := models.ParseDeliveryID(d)
		if perr != nil {
			s.FailPage(c, perr)
			return
		}
		p.Contact, err = s.store.DeliveryContact(ctx, panel.ID, id)
	case p.Query != "":
		p.Contact, err = s.findContact(c, panel.ID, p.Query)
	}
	switch {
	case errors.Is(err, models.ErrNotFound):
		p.NotFound = true
	case err != nil:
		s.FailPage(c, err)
		return
	}
	if p.Contact != nil {
		if p.Query == "" {
			p.Query = p.Contact.Key()
		}
		if err := s.contactHistory(c, panel.ID, p); err != nil {
			s.FailPage(c, err)
			return
		}
	}
	s.render(c, http.StatusOK, "contact", "Contacts", "contacts", p)
}

// findContact looks q up as an external id, then an e-mail address, then a
// phone number.
func (s *Handlers) findContact(c *gin.Context, panelID int64, q string) (*models.Contact, error) {
	tries := []models.Identity{{ExternalID: q}}
	if models.LooksLikeEmail(models.NormalizeEmail(q)) {
		tries = append(tries, models.Identity{Email: models.NormalizeEmail(q)})
	}
	if phone := models.NormalizePhone(q); phone != "" {
		tries = append(tries, models.Identity{Phone: phone})
	}
	for _, id := range tries {
		ct, err := s.store.FindContact(c.Request.Context(), panelID, id)
		if !errors.Is(err, models.ErrNotFound) {
			return ct, err
		}
	}
	return nil, models.ErrNotFound
}

// contactHistory fills the page for its contact.
func (s *Handlers) contactHistory(c *gin.Context, panelID int64, p *contactPage) error {
	ctx := c.Request.Context()
	for _, k := range slices.Sorted(maps.Keys(p.Contact.Attributes)) {
		p.Attrs = append(p.Attrs, attrRow{Key: k, Value: filterValue(p.Contact.Attributes[k])})
	}
	events, err := s.store.ContactEvents(ctx, panelID, p.Contact.ID, contactEventLimit)
	if err != nil {
		return err
	}
	for _, ev := range events {
		props, _ := json.Marshal(ev.Properties)
		p.Events = append(p.Events, contactEvent{Event: ev, Properties: string(props)})
	}
	journeys, err := s.store.ListJourneys(ctx, panelID, models.JourneysAll)
	if err != nil {
		return err
	}
	ids := make([]int64, len(journeys))
	names := map[int64]string{}
	for i, j := range journeys {
		ids[i], names[j.ID] = j.ID, j.Name
	}
	runs, err := s.store.ContactRuns(ctx, panelID, p.Contact.ID, ids, contactRunLimit)
	if err != nil {
		return err
	}
	for _, r := range runs {
		p.Runs = append(p.Runs, contactRun{Run: r, Journey: names[r.JourneyID]})
	}
	if len(p.Events) == 0 {
		return nil
	}
	p.Last = &p.Events[0]
	last := &p.Last.Event
	for _, j := range journeys {
		if j.Status != models.JourneyLive && j.Status != models.JourneyPaused {
			continue
		}
		var def journey.Definition
		if err := json.Unmarshal(j.Definition, &def); err != nil {
			return err
		}
		re, _ := journey.ParseReentry(def.Reentry)
		p.Verdicts = append(p.Verdicts, entryVerdict{Journey: j, EntryAnswer: def.ExplainEntry(journey.EntryQuestion{
			Event: journey.EventOf(last), Contact: journey.ContactOf(p.Contact),
			Live: j.Status == models.JourneyLive, Status: string(j.Status), Reentry: re,
			LastEntry: lastEntryBefore(runs, j.ID, last.ReceivedAt), At: last.ReceivedAt})})
	}
	return nil
}

// lastEntryBefore is when the contact last entered journey id before the
// event came in: a run the event itself started begins after it was received.
func lastEntryBefore(runs []models.Run, journeyID int64, received time.Time) time.Time {
	var last time.Time
	for _, r := range runs {
		if r.JourneyID == journeyID && r.StartedAt.Before(received) && r.StartedAt.After(last) {
			last = r.StartedAt
		}
	}
	return last
}
