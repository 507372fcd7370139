package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/payload"
	"github.com/heraldhq/herald/models"
)

// webhookForm is the webhook form as a page shows it. Secrets are never
// put back into the page: only whether they are set.
type webhookForm struct {
	ID          int64 // 0 for a new webhook
	Status      models.WebhookStatus
	Label       string
	Description string
	URL         string
	Method      string
	Username    string
	PasswordSet bool
	Headers     []headerRow
	BatchSize   int
	BatchWaitMS int
	// BatchWait is the batch wait in seconds as the form shows it ("0.5"),
	// or as typed when it was refused.
	BatchWait string
	// Delivery settings: retries, give-up time, rate and body limits, the
	// failure tracker's thresholds (blank: the panel's) and the probe.
	MaxAttempts      int
	GiveUpAfter      string
	RateLimitPerS    int
	MaxBodyBytes     int
	AutoProbeMinutes int
	Health           healthFields
	HashPII          bool
	HashedFields     []string // what HashPII hashes, shown on the webhook's page
	StrictDisable    bool
	SigningSecretSet bool
	// The body format and signature scheme (models.BodyForm...).
	BodyFormat, BodyTemplate, TemplateContentType string
	SignatureScheme, SignatureHeader              string
	Subscriptions                                 []models.Subscription
	// SubscriptionChoices are checkboxes: the names subscribed to from any
	// source and channel, then the panel's recent event names; the
	// subscriptions narrowed by source or channel are lines of
	// SubscriptionLines ("NEW_VISIT | source=web | channel=email").
	SubscriptionChoices []subscriptionChoice
	SubscriptionLines   string
	// Verified: the configuration as shown passed its latest test, so Save
	// starts enabled (editing a working webhook's label needs no new test).
	Verified bool
	// Outage: the failure tracker disabled the webhook, so only a test
	// run from now on lets it be enabled again, whatever Verified says.
	Outage bool
	Errors formErrors
}

type subscriptionChoice struct {
	Event   string
	Checked bool
}

type headerRow struct {
	Name     string
	ValueSet bool
}

// WebhookNew shows the form for a new webhook.
func (s *Handlers) WebhookNew(c *gin.Context) {
	spec := models.DefaultWebhookSpec()
	f := newWebhookForm(0, "", &spec, false)
	status := s.takeStash(c, "webhook_form:/webhooks/new", f)
	s.renderWebhookForm(c, status, f)
}

// WebhookEdit shows the form for a saved webhook.
func (s *Handlers) WebhookEdit(c *gin.Context) {
	w, err := s.loadWebhook(c)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	spec, err := s.store.Spec(w)
	if err == nil {
		var verified bool
		verified, err = s.store.TestPassed(c.Request.Context(), w.PanelID, w.ID, &spec)
		if err == nil {
			f := newWebhookForm(w.ID, w.Status, &spec, verified)
			f.Outage = w.DisabledAt != nil
			// A refused plain-form Save comes back with what was typed.
			status := s.takeStash(c, "webhook_form:/webhooks/"+strconv.FormatInt(w.ID, 10)+"/edit", f)
			s.renderWebhookForm(c, status, f)
			return
		}
	}
	s.FailPage(c, err)
}

func newWebhookForm(id int64, status models.WebhookStatus, spec *models.WebhookSpec, verified bool) *webhookForm {
	f := &webhookForm{ID: id, Status: status, Label: spec.Label, Description: spec.Description, URL: spec.URL, Method: spec.Method,
		BatchSize: spec.BatchSize, BatchWaitMS: spec.BatchWaitMS, BatchWait: secondsText(spec.BatchWaitMS), HashPII: spec.HashPII, StrictDisable: spec.StrictDisable,
		SigningSecretSet: spec.SigningSecret != "", Subscriptions: spec.Subscriptions, Verified: verified, Errors: formErrors{},
		BodyFormat: spec.BodyFormat, BodyTemplate: spec.BodyTemplate, TemplateContentType: spec.TemplateType(),
		SignatureScheme: spec.SignatureScheme, SignatureHeader: spec.SignatureHeaderName()}
	if spec.HashPII {
		f.HashedFields = payload.HashedFields()
	}
	f.MaxAttempts, f.GiveUpAfter, f.RateLimitPerS = spec.MaxAttempts, goDuration(spec.GiveUpAfter), spec.RateLimitPerS
	f.MaxBodyBytes, f.AutoProbeMinutes = spec.MaxBodyBytes, spec.AutoProbeMinutes
	f.Health = newHealthFields(spec.HealthSettings)
	if spec.BasicAuth != nil {
		f.Username, f.PasswordSet = spec.BasicAuth.Username, spec.BasicAuth.Password != ""
	}
	for _, h := range spec.Headers {
		f.Headers = append(f.Headers, headerRow{Name: h.Name, ValueSet: h.Value != ""})
	}
	return f
}

func (s *Handlers) renderWebhookForm(c *gin.Context, status int, f *webhookForm) {
	recent, err := s.store.RecentEventNames(c.Request.Context(), httpx.PanelOf(c).ID, maxOfferedEvents)
	if err != nil {
		s.FailPage(c, err)
		return
	}
	f.offerSubscriptions(recent)
	title := "New webhook"
	if f.ID != 0 {
		title = "Edit " + f.Label
	}
	s.render(c, status, "webhook_form", title, "webhooks", f)
}

// maxOfferedEvents bounds the recent event names the form offers.
const maxOfferedEvents = 30

// offerSubscriptions lays the asset's subscriptions out as the form shows
// them: checkboxes for plain event names, the panel's recent names among
// them unchecked, and a line each for those narrowed by source or channel.
func (f *webhookForm) offerSubscriptions(recent []string) {
	offered := map[string]bool{}
	var lines []string
	for _, sub := range f.Subscriptions {
		if sub.Source != "" || sub.Channel != "" {
			lines = append(lines, subscriptionLine(sub))
			continue
		}
		offered[strings.ToLower(sub.Event)] = true
		f.SubscriptionChoices = append(f.SubscriptionChoices, subscriptionChoice{Event: sub.Event, Checked: true})
	}
	for _, name := range recent {
		if !offered[strings.ToLower(name)] {
			offered[strings.ToLower(name)] = true
			f.SubscriptionChoices = append(f.SubscriptionChoices, subscriptionChoice{Event: name})
		}
	}
	f.SubscriptionLines = strings.Join(lines, "\n")
}

// subscriptionLine writes a subscription as a line of the form's text box.
func subscriptionLine(sub models.Subscription) string {
	line := sub.Event
	if sub.Source != "" {
		line += " | source=" + sub.Source
	}
	if sub.Channel != "" {
		line += " | channel=" + sub.Channel
	}
	return line
}

// subscriptionsForm reads the checked event names and the text box's lines
// ("EVENT", or "EVENT | source=web | channel=email") into subscriptions; a
// name both checked and typed counts once.
func subscriptionsForm(c *gin.Context) ([]models.Subscription, error) {
	subs := []models.Subscription{}
	seen := map[models.Subscription]bool{}
	add := func(sub models.Subscription) {
		key := sub
		key.Event = strings.ToLower(strings.TrimSpace(sub.Event))
		if !seen[key] {
			seen[key] = true
			subs = append(subs, sub)
		}
	}
	for _, name := range c.PostFormArray("subscribe") {
		if strings.TrimSpace(name) != "" {
			add(models.Subscription{Event: name})
		}
	}
	for i, line := range strings.Split(c.PostForm("subscription_lines"), "\n") {
		parts := strings.Split(line, "|")
		sub := models.Subscription{Event: strings.TrimSpace(parts[0])}
		if sub.Event == "" && len(parts) == 1 {
			continue // a blank line
		}
		for _, part := range parts[1:] {
			key, value, _ := strings.Cut(part, "=")
			switch strings.TrimSpace(key) {
			case "source":
				sub.Source = strings.TrimSpace(value)
			case "channel":
				sub.Channel = strings.TrimSpace(value)
			default:
				return nil, httpx.BadRequest("subscriptions",
					fmt.Sprintf("line %d: %q is neither source=… nor channel=…", i+1, strings.TrimSpace(part)))
			}
		}
		add(sub)
	}
	return subs, nil
}

// webhookInputForm reads the webhook form into the input the API takes, so
// the UI and the API change webhooks by the same rules. A blank password
// or header value keeps the stored one (the page never has it); on a new
// webhook there is none to keep, and the models say so.
func webhookInputForm(c *gin.Context) (models.WebhookInput, error) {
	var in models.WebhookInput
	str := func(name string) *string { v := c.PostForm(name); return &v }
	in.Label, in.Description, in.URL, in.Method = str("label"), str("description"), str("url"), str("method")
	user, pass := strings.TrimSpace(c.PostForm("basic_auth_username")), c.PostForm("basic_auth_password")
	in.BasicAuth.Set = true
	if user == "" && pass == "" {
		in.BasicAuth.Null = true
	} else {
		in.BasicAuth.Value.Username = user
		if pass != "" {
			in.BasicAuth.Value.Password = &pass
		}
	}
	names, values := c.PostFormArray("header_name"), c.PostFormArray("header_value")
	headers := []models.HeaderInput{}
	for i, name := range names {
		value := ""
		if i < len(values) {
			value = values[i]
		}
		if strings.TrimSpace(name) == "" && value == "" {
			continue // an empty row left in the form
		}
		h := models.HeaderInput{Name: name}
		if value != "" {
			h.Value = &value
		}
		headers = append(headers, h)
	}
	in.Headers = &headers
	size, err := strconv.Atoi(strings.TrimSpace(c.PostForm("batch_size")))
	if err != nil {
		return in, httpx.BadRequest("batch_size", "must be a whole number")
	}
	// The form says the batch wait in seconds; the API keeps milliseconds.
	wait, err := parseSeconds(c.PostForm("batch_wait"), models.MaxBatchWaitMS)
	if err != nil {
		return in, httpx.BadRequest("batch_wait", err.Error())
	}
	in.BatchSize, in.BatchWaitMS = &size, &wait
	if err := deliverySettingsForm(c, &in); err != nil {
		return in, err
	}
	hashPII, strict := c.PostForm("hash_pii") != "", c.PostForm("strict_disable") != ""
	in.HashPII, in.StrictDisable = &hashPII, &strict
	// A textarea submits its lines ending in CR LF; the template is kept
	// as typed, with the LF the API would get.
	template := strings.ReplaceAll(c.PostForm("body_template"), "\r\n", "\n")
	in.BodyFormat, in.BodyTemplate, in.TemplateContentType = str("body_format"), &template, str("template_content_type")
	in.SignatureScheme, in.SignatureHeader = str("signature_scheme"), str("signature_header")
	subs, err := subscriptionsForm(c)
	if err != nil {
		return in, err
	}
	in.Subscriptions = &subs
	return in, nil
}

// formSpec is the configuration the form describes: the input applied to
// the stored configuration (or the defaults, for a new webhook).
func (s *Handlers) formSpec(c *gin.Context, w *models.Webhook) (models.WebhookInput, models.WebhookSpec, error) {
	spec := models.DefaultWebhookSpec()
	in, err := webhookInputForm(c)
	if err != nil {
		return in, spec, err
	}
	if w != nil {
		if spec, err = s.store.Spec(w); err != nil {
			return in, spec, err
		}
	}
	return in, spec, in.Apply(&spec)
}

// formWebhook loads the webhook a form is about: none at /webhooks, the
// one named at /webhooks/:id.
func (s *Handlers) formWebhook(c *gin.Context) (*models.Webhook, error) {
	if c.Param("id") == "" {
		return nil, nil
	}
	return s.loadWebhook(c)
}
