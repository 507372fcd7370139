package ui

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/models"
)

// webhookForm is the webhook form as a page shows it. Secrets are never
// put back into the page: only whether they are set.
type webhookForm struct {
	ID               int64 // 0 for a new webhook
	Status           models.WebhookStatus
	Label            string
	Description      string
	URL              string
	Method           string
	Username         string
	PasswordSet      bool
	Headers          []headerRow
	BatchSize        int
	BatchWaitMS      int
	HashPII          bool
	StrictDisable    bool
	SigningSecretSet bool
	// Verified: the configuration as shown passed its latest test, so Save
	// starts enabled (editing a working webhook's label needs no new test).
	Verified bool
	// Outage: the failure tracker disabled the webhook, so only a test
	// run from now on lets it be enabled again, whatever Verified says.
	Outage bool
	Errors formErrors
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
	w, err := s.admin.LoadWebhook(c)
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
		BatchSize: spec.BatchSize, BatchWaitMS: spec.BatchWaitMS, HashPII: spec.HashPII, StrictDisable: spec.StrictDisable,
		SigningSecretSet: spec.SigningSecret != "", Verified: verified, Errors: formErrors{}}
	if spec.BasicAuth != nil {
		f.Username, f.PasswordSet = spec.BasicAuth.Username, spec.BasicAuth.Password != ""
	}
	for _, h := range spec.Headers {
		f.Headers = append(f.Headers, headerRow{Name: h.Name, ValueSet: h.Value != ""})
	}
	return f
}

func (s *Handlers) renderWebhookForm(c *gin.Context, status int, f *webhookForm) {
	title := "New webhook"
	if f.ID != 0 {
		title = "Edit " + f.Label
	}
	s.render(c, status, "webhook_form", title, "webhooks", f)
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
	for _, n := range []struct {
		field string
		dst   **int
	}{{"batch_size", &in.BatchSize}, {"batch_wait_ms", &in.BatchWaitMS}} {
		v, err := strconv.Atoi(strings.TrimSpace(c.PostForm(n.field)))
		if err != nil {
			return in, httpx.BadRequest(n.field, "must be a whole number")
		}
		*n.dst = &v
	}
	hashPII, strict := c.PostForm("hash_pii") != "", c.PostForm("strict_disable") != ""
	in.HashPII, in.StrictDisable = &hashPII, &strict
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
	return s.admin.LoadWebhook(c)
}
