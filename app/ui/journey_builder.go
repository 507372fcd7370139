package ui

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/journey"
	"github.com/heraldhq/herald/models"
)

// journeyPage is the builder: the steps top to bottom, and the side form
// of the step being edited.
type journeyPage struct {
	Journey  *models.Journey
	Def      *journey.Definition
	Runs     map[string]int64
	Editable bool
	Steps    []stepView
	// Selected is the step in the side form; nil shows the journey's settings.
	Selected *stepView
	// Errors are the side form's, by field.
	Errors formErrors
	// General are problems of the journey as a whole (from Publish or Save).
	General []string
	Preview string
	// TestContact and TestSend are the selected step's last test-send.
	TestContact string
	TestSend    *delivery.StepTest
	// PreviewEvent says which event the preview (and a real run) sends.
	PreviewEvent string
	Reentry      reentryForm
	// Durations are what the duration fields show (as typed, after a
	// refused save), by field: within, reentry_after.
	Durations typedDurations
	Units     []durationUnit
	// Labels name the steps for people ("Trigger: Email open"), by id:
	// the drop-downs show them, their values stay ids.
	Labels map[string]string
	// Activities and Properties are offered as event names and filter
	// names are typed: this panel's recent ones, then the channel events.
	Activities, Properties []string
	Assets                 []assetOption
	// Segments and Lists are the panel's, for a trigger on joining one.
	Segments []models.Segment
	Lists    []models.List
	// StepIDs are where a step may lead; Origins what a wait may listen to
	// (the trigger and the actions).
	StepIDs, Origins []string
	Channels         []string
	Ops              []string
	EventChoices     []string
	AttChoices       []string
	StepTypes        []stepType
	// Canvas is the journey drawn as a graph with each step's counts.
	Canvas canvas
}

// stepView is one step as laid out.
type stepView struct {
	Node     journey.Node
	Kind     string
	Summary  string
	Exits    []stepExit
	Problems []string
	Selected bool
	// AwaitsOutcome: a webhook step whose exits are its delivery's outcome.
	AwaitsOutcome bool
}

type stepExit struct{ Label, To, ToLabel string }

type stepType struct{ Type, Label string }

// assetOption is a webhook a webhook step may send to: verified ones only
// (active, or inactive but tested), and the one already chosen.
type assetOption struct {
	ID     int64
	Label  string
	Status models.WebhookStatus
}

type reentryForm struct {
	Mode  string
	After durationField
}

// maxOfferedNames bounds the recent activity and property names offered.
const maxOfferedNames = 50

// stepFieldLabels name a step's fields as its side form does.
var stepFieldLabels = map[string]string{
	"webhook_id": "Webhook", "event": "Activity", "channel": "Channel", "within": "Waiting period",
	"happened": "If it happens", "timeout": "If the wait runs out", "next": "Then", "message_name": "Message name",
	"of_node": "Of the message sent by", "filters": "Filters", "event_params": "Event parameters",
	"att_params": "Contact attributes", "custom_params": "Custom parameters", "segment": "Segment", "list": "List",
	"delivered": "If delivered", "failed": "If it fails for good", "save": "Save from the response",
}

// webhookExits labels a webhook step's exits: by its delivery's outcome
// when the run waits for it, else "then".
func webhookExits(n *journey.Node) []stepExit {
	if !n.AwaitsOutcome() {
		return []stepExit{{Label: "then", To: n.Next}}
	}
	return []stepExit{{Label: "if delivered", To: n.OutcomeExit(true)}, {Label: "if it fails for good", To: n.OutcomeExit(false)}}
}

// JourneyBuilder shows the builder; ?step= opens a step's side form.
func (s *Handlers) JourneyBuilder(c *gin.Context) {
	j, def, err := s.loadJourneyDef(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	st := builderStash{Errors: formErrors{}}
	status := s.takeStash(c, "journey:"+strconv.FormatInt(j.ID, 10), &st)
	saved := def
	if st.Def != nil {
		def = st.Def // what was typed into a refused step, shown again in its form
		def.Name = j.Name
	}
	selected := c.Query("step")
	if st.Selected != "" {
		selected = st.Selected
	}
	s.renderBuilder(c, status, j, def, saved, selected, st)
}

// builderStash is what a refused post of the builder (a step that cannot
// be saved, added or deleted, a journey that cannot be published) leaves
// for the builder it redirects to.
type builderStash struct {
	Def      *journey.Definition
	Selected string
	Errors   formErrors
	Problems []journey.Problem
	Typed    typedDurations
	// TestContact and TestSend are a step's test-send: the contact as
	// typed and the endpoint's answer.
	TestContact string
	TestSend    *delivery.StepTest
}

// builderAfterPost ends a refused post of the builder the
// post/redirect/get way: the builder shows def (what was typed) at step
// selected, with the errors and problems, and answers with status.
func (s *Handlers) builderAfterPost(c *gin.Context, status int, j *models.Journey, def *journey.Definition, selected string,
	errs formErrors, problems []journey.Problem) {
	s.stashBuilder(c, status, j, builderStash{Def: def, Selected: selected, Errors: errs, Problems: problems})
}

// stashBuilder leaves st for the builder of j at st.Selected and redirects there.
func (s *Handlers) stashBuilder(c *gin.Context, status int, j *models.Journey, st builderStash) {
	s.redirectWith(c, "journey:"+strconv.FormatInt(j.ID, 10), status, st, builderURL(j.ID, st.Selected))
}

// loadJourneyDef loads the journey named by :id and its graph.
func (s *Handlers) loadJourneyDef(c *gin.Context) (*models.Journey, *journey.Definition, error) {
	j, err := httpx.LoadJourney(c, s.store)
	if err != nil {
		return nil, nil, err
	}
	var def journey.Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, nil, fmt.Errorf("journey %d: %w", j.ID, err)
	}
	def.Name = j.Name
	return j, &def, nil
}

// renderBuilder shows the builder with step selected (none: the journey's
// settings), the side form's errors, and problems found by Save or Publish
// shown next to their steps. def is what the forms show (what was typed,
// after a refused save); saved what is stored, which the steps' summaries
// tell, so a refused value never reads as if it were saved.
func (s *Handlers) renderBuilder(c *gin.Context, status int, j *models.Journey, def, saved *journey.Definition, selected string,
	st builderStash) {
	errs, problems, typed := st.Errors, st.Problems, st.Typed
	ctx := c.Request.Context()
	hooks, err := s.store.ListWebhooks(ctx, j.PanelID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	counts, err := s.store.JourneyCounts(ctx, []int64{j.ID})
	if err != nil {
		s.FailPage(c, err)
		return
	}
	segments, err := s.store.ListSegments(ctx, j.PanelID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	lists, err := s.store.ListLists(ctx, j.PanelID)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	activities, properties, err := s.store.RecentEventVocabulary(ctx, j.PanelID, maxOfferedNames)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p := &journeyPage{Journey: j, Def: def, Runs: counts[j.ID], Errors: errs, Segments: segments, Lists: lists,
		TestContact: st.TestContact, TestSend: st.TestSend,
		Editable: j.Status == models.JourneyDraft || j.Status == models.JourneyPaused,
		Channels: journey.Channels, Ops: journey.Ops, Units: durationUnits,
		Activities: offered(activities, eventSuggestions), Properties: offered(properties, attParamChoices),
		EventChoices: eventParamChoices, AttChoices: attParamChoices, Reentry: newReentryForm(def.Reentry),
		StepTypes: []stepType{{journey.TypeAction, "Send a message"}, {journey.TypeWait, "Wait for event"},
			{journey.TypeWebhook, "Webhook"}, {journey.TypeStop, "Stop"}}}
	names := stepNames{assets: map[int64]string{}, segments: map[int64]string{}, lists: map[int64]string{}}
	for _, w := range hooks {
		names.assets[w.ID] = w.Label
	}
	for _, sg := range segments {
		names.segments[sg.ID] = sg.Name
	}
	for _, l := range lists {
		names.lists[l.ID] = l.Name
	}
	p.Labels = stepLabels(def, names)
	names.steps = p.Labels
	p.Durations = typedDurations{"reentry_after": p.Reentry.After}
	if n := def.Node(selected); n != nil && n.Type == journey.TypeWait {
		p.Durations["within"] = splitStored(n.Within)
	}
	maps.Copy(p.Durations, typed) // a refused value shows as it was typed
	if _, ok := typed["reentry_after"]; ok {
		p.Reentry.Mode = "after" // typed only with "after a while" chosen
	}
	byNode := map[string][]string{}
	for _, pr := range problems {
		msg := sentence(pr.Message)
		if pr.Field != "" {
			field, _, _ := strings.Cut(pr.Field, "[")
			msg = cmp.Or(stepFieldLabels[field], pr.Field) + ": " + pr.Message
		}
		if pr.Node == "" || def.Node(pr.Node) == nil {
			p.General = append(p.General, sentence(pr.String()))
			continue
		}
		byNode[pr.Node] = append(byNode[pr.Node], msg)
	}
	for _, id := range stepOrder(def) {
		n := def.Node(id)
		told := n
		if sn := saved.Node(id); sn != nil {
			told = sn
		}
		v := stepView{Node: *n, Kind: stepKinds[n.Type], Summary: stepSummary(told, names), Problems: byNode[id], Selected: id == selected,
			AwaitsOutcome: n.AwaitsOutcome()}
		switch n.Type {
		case journey.TypeWait:
			v.Exits = []stepExit{{Label: "if it happens", To: n.Happened}, {Label: "if the wait runs out", To: n.Timeout}}
		case journey.TypeWebhook:
			v.Exits = webhookExits(n)
		case journey.TypeStop:
		default:
			v.Exits = []stepExit{{Label: "then", To: n.Next}}
		}
		for i := range v.Exits {
			v.Exits[i].ToLabel = p.Labels[v.Exits[i].To]
		}
		p.Steps = append(p.Steps, v)
		if n.Type != journey.TypeTrigger {
			p.StepIDs = append(p.StepIDs, id)
		}
		if n.Type == journey.TypeTrigger || n.Type == journey.TypeAction {
			p.Origins = append(p.Origins, id)
		}
	}
	for i := range p.Steps {
		if p.Steps[i].Selected {
			p.Selected = &p.Steps[i]
		}
	}
	for _, w := range hooks {
		chosen := p.Selected != nil && p.Selected.Node.WebhookID == w.ID
		if w.Status == models.StatusActive || w.Status == models.StatusInactive || chosen {
			p.Assets = append(p.Assets, assetOption{ID: w.ID, Label: w.Label, Status: w.Status})
		}
	}
	stats, err := s.engine.NodeStats(ctx, j)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p.Canvas = canvasLayout(j.ID, saved, stats, names) // what runs follow, not a refused edit
	if p.Selected != nil && p.Selected.Node.Type == journey.TypeWebhook {
		p.PreviewEvent = previewEventText(def, p.Selected.Node.ID, p.Labels)
		p.Preview, err = s.previewItem(c, j, def, p.Selected.Node.ID, hooks)
		if err != nil {
			p.Preview = "The preview cannot be built: " + err.Error()
		}
	}
	title := j.Name
	if p.Selected != nil {
		title = p.Selected.Kind + " · " + j.Name
	}
	s.render(c, status, "journey", title, "journeys", p)
}

// previewItem builds the batch the webhook step would send, with the
// engine's code (journey.PreviewBatch).
func (s *Handlers) previewItem(c *gin.Context, j *models.Journey, def *journey.Definition, node string, hooks []models.Webhook) (string, error) {
	n := def.Node(node)
	if n == nil {
		return "", errors.New("no such step")
	}
	asset := models.AssetInfo{ID: n.WebhookID, Label: fmt.Sprintf("webhook %d", n.WebhookID)}
	for _, w := range hooks {
		if w.ID == n.WebhookID {
			asset = models.AssetInfo{ID: w.ID, Label: w.Label, Status: w.Status, HashPII: w.HashPII, BatchWaitMS: w.BatchWaitMS}
		}
	}
	b, err := journey.PreviewBatch(httpx.PanelOf(c).Name, j.Name, def, node, asset, s.now())
	return string(b), err
}

// previewEventText tells which event a webhook step sends: the awaited
// one when runs reach it through a wait's "happened" exit, else the trigger.
func previewEventText(def *journey.Definition, node string, labels map[string]string) string {
	if w := journey.PreviewEvent(def, node); w != nil {
		return fmt.Sprintf("It sends the awaited event “%s”: runs reach this step when it happened (the step %s).", w.Event, labels[w.ID])
	}
	if t := def.Trigger(); t != nil && t.Event != "" {
		return fmt.Sprintf("It sends the trigger “%s”: runs reach this step without an awaited event (from the trigger, or on a wait's timeout).", t.Event)
	}
	return "It sends the event that started the run."
}

func newReentryForm(r string) reentryForm {
	if r == "always" {
		return reentryForm{Mode: "always", After: splitStored("")}
	}
	if after, ok := strings.CutPrefix(r, "after:"); ok {
		return reentryForm{Mode: "after", After: splitStored(after)}
	}
	return reentryForm{Mode: "never", After: splitStored("")}
}

// saveJourney stores an edited graph when journey's Check passes, as the
// API would, and returns to the builder at step selected. Problems are
// shown next to their steps and fields, with what was typed still in the
// form; a journey that cannot be edited now (it is live) says why.
func (s *Handlers) saveJourney(c *gin.Context, j *models.Journey, def *journey.Definition, selected string, errs formErrors,
	typed typedDurations) {
	var he *httpx.Error
	raw, err := s.engine.CheckDefinition(c.Request.Context(), j.PanelID, def)
	if err == nil && len(errs) > 0 {
		err = httpx.BadRequest("", "the step cannot be saved")
	}
	if err == nil {
		_, err = s.store.UpdateJourney(c.Request.Context(), j.PanelID, j.ID, def.Name, raw)
	}
	var ce *models.ConflictError
	problems := journey.ProblemsOf(err)
	switch {
	case err == nil:
		s.setFlash(c, "ok", "Saved.")
	case errors.As(err, &ce) && ce.Field == "":
		s.setFlash(c, "error", sentence(ce.Message)+".")
	case len(problems) > 0 || errors.As(err, &he) || errors.As(err, &ce):
		switch {
		case len(problems) > 0:
			problemErrors(err, selected, errs)
		case he != nil:
			if len(errs) == 0 {
				errs[""] = sentence(he.Msg) + "."
			}
		default:
			errs[ce.Field] = sentence(ce.Message) + "."
		}
		status, _ := s.classify(c, err)
		s.stashBuilder(c, status, j, builderStash{Def: def, Selected: selected, Errors: errs, Problems: problems, Typed: typed})
		return
	default:
		s.FailPage(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, builderURL(j.ID, selected))
}

// builderURL is the builder of journey id with a step's form open.
func builderURL(id int64, step string) string {
	u := "/journeys/" + strconv.FormatInt(id, 10)
	if step != "" {
		u += "?step=" + url.QueryEscape(step) + "#step-form"
	}
	return u
}
