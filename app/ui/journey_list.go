package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// JourneyListPage is the list of journeys with the form that starts one.
type journeyListPage struct {
	Journeys []journeyListRow
	// Archived: the list shows the archived journeys (?archived=1).
	Archived bool
	// New is the new-journey form as typed, with its errors.
	New      newJourneyForm
	Channels []string
	Events   []string
}

type journeyListRow struct {
	Journey models.Journey
	Runs    map[string]int64
}

type newJourneyForm struct {
	Name, Event, Channel string
	Errors               formErrors
}

// JourneyListPage lists the panel's journeys with their runs by status.
func (s *Handlers) JourneyListPage(c *gin.Context) {
	form := newJourneyForm{Errors: formErrors{}}
	status := s.takeStash(c, "journeys", &form)
	s.renderJourneyList(c, status, form)
}

func (s *Handlers) renderJourneyList(c *gin.Context, status int, form newJourneyForm) {
	archived := c.Query("archived") == "1"
	shelf := models.JourneysShown
	if archived {
		shelf = models.JourneysArchived
	}
	js, counts, err := s.store.JourneysWithRuns(c.Request.Context(), httpx.PanelOf(c).ID, shelf)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	recent, _, err := s.store.RecentEventVocabulary(c.Request.Context(), httpx.PanelOf(c).ID, maxOfferedNames)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p := journeyListPage{New: form, Channels: journey.Channels, Events: offered(recent, eventSuggestions), Archived: archived}
	for _, j := range js {
		p.Journeys = append(p.Journeys, journeyListRow{Journey: j, Runs: counts[j.ID]})
	}
	s.render(c, status, "journeys", "Journeys", "journeys", p)
}

// JourneyNew starts a draft journey from its name and trigger: the trigger
// leads to a stop, and the builder adds the steps between.
func (s *Handlers) JourneyNew(c *gin.Context) {
	form := newJourneyForm{Name: strings.TrimSpace(c.PostForm("name")), Event: strings.TrimSpace(c.PostForm("event")),
		Channel: strings.TrimSpace(c.PostForm("channel")), Errors: formErrors{}}
	def := &journey.Definition{Name: form.Name, Reentry: "never", Nodes: []journey.Node{
		{ID: "start", Type: journey.TypeTrigger, Event: form.Event, Channel: form.Channel, Next: "end"},
		{ID: "end", Type: journey.TypeStop},
	}}
	raw, err := s.engine.CheckDefinition(c.Request.Context(), httpx.PanelOf(c).ID, def)
	var j *models.Journey
	if err == nil {
		j, err = s.store.CreateJourney(c.Request.Context(), httpx.PanelOf(c).ID, def.Name, raw)
	}
	if err != nil {
		if !problemErrors(err, "start", form.Errors) {
			errs, ok := formError(err)
			if !ok {
				s.FailPage(c, err)
				return
			}
			form.Errors = errs
		}
		status, _ := s.classify(c, err)
		s.redirectWith(c, "journeys", status, form, "/journeys")
		return
	}
	s.setFlash(c, "ok", "Journey created as a draft. Add its steps, then publish it.")
	c.Redirect(http.StatusSeeOther, "/journeys/"+strconv.FormatInt(j.ID, 10))
}

// problemErrors files a journey's problems as form errors: those of the
// step node by field ("filters[2]" under "filters"), the journey's own by
// field too. It reports whether err carried problems.
func problemErrors(err error, node string, errs formErrors) bool {
	problems := journey.ProblemsOf(err)
	if len(problems) == 0 {
		return false
	}
	for _, p := range problems {
		if p.Node != "" && p.Node != node {
			continue
		}
		field, _, _ := strings.Cut(p.Field, "[")
		if errs[field] == "" {
			errs[field] = sentence(p.Message) + "."
		}
	}
	return true
}
