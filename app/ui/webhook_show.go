package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// uiPageSize is how many deliveries or attempts a page lists.
const uiPageSize = 50

// webhookPage is a webhook's page: its settings, charts and logs.
type webhookPage struct {
	Webhook *models.Webhook
	State   webhookState
	Form    *webhookForm // the settings, secrets only as "set"
	// LastTest is the latest test of the webhook or of its settings;
	// TestBeforeOutage says it ran before the failure tracker disabled the
	// webhook, so it does not count for enabling it again.
	LastTest         *models.WebhookTest
	TestBeforeOutage bool
	// SecretOnce is a signing secret just generated: shown this once.
	SecretOnce string
	Health     *healthCard
	// MaxAttempts is how many requests a delivery gets, for "attempt 3 of 9".
	MaxAttempts int
	// MailConfigured: alerts are e-mailed, not only recorded.
	MailConfigured bool
	Range          chartRange
	Ranges         []chartRange
	Charts         []chartView
	Counts         map[models.DeliveryStatus]int64
	Tab            string // deliveries or attempts
	Filter         logFilter
	Deliveries     []deliveryRow
	Attempts       []models.Attempt
	// Older is the next page's URL when there is one; Newest the first page's
	// when this is not it.
	Older, Newest string
	// cursor is this page's (?cursor=), "" for the newest.
	cursor string
	// UsedIn are the journeys with a webhook step on this webhook.
	UsedIn []models.Journey
	// Drawer is the delivery the URL opens beside the log (?delivery=).
	Drawer *deliveryDrawer
}

// logFilter is the filter form of the logs, as typed.
type logFilter struct {
	Status  string
	Outcome string
	Since   string
	Until   string
	// Q searches the deliveries: a contact's e-mail, phone or external
	// id, or a delivery_id.
	Q      string
	Errors formErrors
	// Contact is the contact Q found; NoMatch says Q found nothing of
	// this panel's (webhook's), so the log is empty.
	Contact *models.Contact
	NoMatch bool
}

// webhookStash is what a post on the webhook's page leaves for it.
type webhookStash struct {
	// SecretOnce is a signing secret just generated, shown once.
	SecretOnce string
}

// webhookStashPage names the stash of webhook id's page.
func webhookStashPage(id int64) string { return "webhook:" + strconv.FormatInt(id, 10) }

// WebhookShow shows a webhook's page, with a signing secret just
// generated (by Generate or Save) shown once.
func (s *Handlers) WebhookShow(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	var st webhookStash
	s.takeStash(c, webhookStashPage(w.ID), &st)
	s.showWebhook(c, w, st.SecretOnce)
}

// showWebhook renders the page of w, with a signing secret to show once.
func (s *Handlers) showWebhook(c *gin.Context, w *models.Webhook, secretOnce string) {
	ctx := c.Request.Context()
	p := &webhookPage{Webhook: w, State: stateOf(w, s.now()), SecretOnce: secretOnce, Ranges: chartRanges,
		Range: pickRange(c.Query("range")), Tab: "deliveries", MailConfigured: s.mailer != nil}
	if c.Query("tab") == "attempts" {
		p.Tab = "attempts"
	}
	spec, err := s.store.Spec(w)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p.Form = newWebhookForm(w.ID, w.Status, &spec, false)
	p.MaxAttempts = spec.MaxAttempts
	if p.LastTest, err = s.store.LastTestOfConfig(ctx, w); err != nil {
		s.FailPage(c, err)
		return
	}
	p.TestBeforeOutage = testBeforeOutage(w, p.LastTest)
	if p.UsedIn, err = s.store.JourneysUsingWebhook(ctx, w.PanelID, w.ID); err != nil {
		s.FailPage(c, err)
		return
	}
	from, to := p.Range.bounds(s.now())
	buckets, err := s.store.AttemptSeries(ctx, w.PanelID, w.ID, from, to, p.Range.Step)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	p.Charts = webhookCharts(buckets, p.Range.Step, panelLocation(c))
	if p.Counts, err = s.store.CountDeliveries(ctx, w.ID); err != nil {
		s.FailPage(c, err)
		return
	}
	if p.Health, err = s.healthCardOf(c, w, p.Counts); err != nil {
		s.FailPage(c, err)
		return
	}
	if p.Tab == "attempts" {
		err = s.listAttempts(c, p)
	} else {
		err = s.listDeliveries(c, p)
	}
	if err != nil {
		s.FailPage(c, err)
		return
	}
	found, err := s.openDrawer(c, p)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	status := http.StatusOK
	if !found {
		status = http.StatusNotFound // the page, its drawer saying so
	}
	s.render(c, status, "webhook", w.Label, "webhooks", p)
}

// healthCardOf gathers the health card of w.
func (s *Handlers) healthCardOf(c *gin.Context, w *models.Webhook, counts map[models.DeliveryStatus]int64) (*healthCard, error) {
	ctx := c.Request.Context()
	h := &healthCard{Health: health.Parse(w.Health), Held: counts[models.DeliveryHeld]}
	recent, err := s.store.RecentAttempts(ctx, w.ID, 1)
	if err != nil {
		return nil, err
	}
	if len(recent) > 0 {
		h.LastAttempt = &recent[0]
	}
	if h.NextRetry, err = s.store.NextRetryAt(ctx, w.PanelID, w.ID); err != nil {
		return nil, err
	}
	alerts, err := s.store.AlertHistory(ctx, w.PanelID, w.ID, 5)
	if err != nil {
		return nil, err
	}
	h.Alerts = alertRows(alerts, s.store.Now())
	return h, nil
}

// readLogFilter reads the logs' filter; a time that cannot be read is
// reported next to its field and not applied.
func readLogFilter(c *gin.Context) (f logFilter, since, until time.Time) {
	f = logFilter{Status: c.Query("status"), Outcome: c.Query("outcome"),
		Since: c.Query("since"), Until: c.Query("until"), Q: strings.TrimSpace(c.Query("q")), Errors: formErrors{}}
	loc := httpx.PanelOf(c).Location()
	since, until = uiTime(f.Since, "since", f.Errors, loc), uiTime(f.Until, "until", f.Errors, loc)
	return f, since, until
}

// uiTime reads a time from a datetime-local field (in the panel's time
// zone loc, as the page says) or RFC 3339.
func uiTime(v, field string, errs formErrors, loc *time.Location) time.Time {
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t
		}
	}
	errs[field] = "Not a time: use 2025-01-31T14:05 (" + loc.String() + ")."
	return time.Time{}
}

func (s *Handlers) listAttempts(c *gin.Context, p *webhookPage) error {
	var since, until time.Time
	p.Filter, since, until = readLogFilter(c)
	f := models.AttemptFilter{Since: since, Until: until, Limit: uiPageSize}
	switch p.Filter.Outcome {
	case "", models.OutcomeDelivered, models.OutcomeRetry, models.OutcomeFailed:
		f.Outcome = p.Filter.Outcome
	default:
		p.Filter.Errors["outcome"] = "Pick an outcome from the list."
	}
	if cur := c.Query("cursor"); cur != "" {
		before, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || before <= 0 {
			return httpx.BadRequest("cursor", "this page link is broken; start from the newest")
		}
		f.Before = before
		p.Newest = p.logURL(nil)
	}
	rows, err := s.store.ListAttempts(c.Request.Context(), p.Webhook.PanelID, p.Webhook.ID, f)
	if err != nil {
		return err
	}
	p.Attempts = rows
	if len(rows) == uiPageSize {
		p.Older = p.logURL(url.Values{"cursor": {strconv.FormatInt(rows[len(rows)-1].ID, 10)}})
	}
	return nil
}

// logURL is this page's URL with its tab, range and filter, plus extra.
func (p *webhookPage) logURL(extra url.Values) string {
	q := p.logQuery()
	q.Set("tab", p.Tab)
	q.Set("range", p.Range.Key)
	for k, v := range extra {
		q[k] = v
	}
	return p.pageURL(q, "logs")
}

// pageURL is this page with query q, at element id fragment.
func (p *webhookPage) pageURL(q url.Values, fragment string) string {
	return "/webhooks/" + strconv.FormatInt(p.Webhook.ID, 10) + "?" + q.Encode() + "#" + fragment
}

// Back is this page's log as filtered, for a post from it (a replay) to
// come back to.
func (p *webhookPage) Back() string { return p.logURL(nil) }

// Failed is how many deliveries wait for a replay.
func (p *webhookPage) Failed() int64 { return p.Counts[models.DeliveryFailed] }
