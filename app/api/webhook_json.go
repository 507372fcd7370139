package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/payload"
	"github.com/heraldhq/herald/models"
)

// webhookJSON is an asset as the API shows it: secrets are never echoed,
// only whether they are set.
type webhookJSON struct {
	ID               int64                 `json:"id"`
	Label            string                `json:"label"`
	Description      string                `json:"description"`
	URL              string                `json:"url"`
	Method           string                `json:"method"`
	BasicAuth        *basicAuthJSON        `json:"basic_auth"`
	Headers          []headerJSON          `json:"headers"`
	BatchSize        int                   `json:"batch_size"`
	BatchWaitMS      int                   `json:"batch_wait_ms"`
	SigningSecretSet bool                  `json:"signing_secret_set"`
	HashPII          bool                  `json:"hash_pii"`
	HashedFields     []string              `json:"hashed_fields"`
	StrictDisable    bool                  `json:"strict_disable"`
	MaxAttempts      int                   `json:"max_attempts"`
	GiveUpAfter      string                `json:"give_up_after"`
	RateLimitPerS    int                   `json:"rate_limit_per_s"`
	MaxBodyBytes     int                   `json:"max_body_bytes"`
	HealthSettings   json.RawMessage       `json:"health_settings"`
	AutoProbeMinutes int                   `json:"auto_probe_minutes"`
	Subscriptions    []models.Subscription `json:"subscriptions"`
	BodyFormat       string                `json:"body_format"`
	BodyTemplate     string                `json:"body_template"`
	TemplateType     string                `json:"template_content_type"`
	SignatureScheme  string                `json:"signature_scheme"`
	SignatureHeader  string                `json:"signature_header"`
	Health           healthJSON            `json:"health"`
	DisabledAt       *time.Time            `json:"disabled_at"`
	Status           models.WebhookStatus  `json:"status"`
	LastTest         *httpx.TestJSON       `json:"last_test"`
	CreatedAt        time.Time             `json:"created_at"`
	UpdatedAt        time.Time             `json:"updated_at"`
}

type basicAuthJSON struct {
	Username    string `json:"username"`
	PasswordSet bool   `json:"password_set"`
}

type headerJSON struct {
	Name     string `json:"name"`
	ValueSet bool   `json:"value_set"`
}

// healthJSON is the failure tracker's view of a webhook.
type healthJSON struct {
	State               health.State `json:"state"`
	ConsecutiveFailures int          `json:"consecutive_failures"`
	WindowAttempts      int          `json:"window_attempts"`
	WindowFailures      int          `json:"window_failures"`
	FailingSince        *time.Time   `json:"failing_since"`
	LastSuccessAt       *time.Time   `json:"last_success_at"`
	LastFailureAt       *time.Time   `json:"last_failure_at"`
	LastError           string       `json:"last_error,omitempty"`
}

func newHealthJSON(w *models.Webhook, now time.Time) healthJSON {
	h := health.Parse(w.Health)
	var th health.Thresholds
	_ = json.Unmarshal(w.HealthSettings, &th)
	a, f := h.Window(th.Merge(health.Defaults).Window.D(), now)
	return healthJSON{State: h.State, ConsecutiveFailures: h.ConsecutiveFailures, WindowAttempts: a, WindowFailures: f,
		FailingSince: h.FailingSince, LastSuccessAt: h.LastSuccessAt, LastFailureAt: h.LastFailureAt, LastError: h.LastError}
}

// presentWebhook renders an asset; lastTest may be nil.
func (s *Handlers) presentWebhook(w *models.Webhook, lastTest *models.WebhookTest) (webhookJSON, error) {
	spec, err := s.store.Spec(w)
	if err != nil {
		return webhookJSON{}, err
	}
	out := webhookJSON{
		ID: w.ID, Label: spec.Label, Description: spec.Description, URL: spec.URL, Method: spec.Method,
		Headers: make([]headerJSON, 0, len(spec.Headers)), BatchSize: spec.BatchSize, BatchWaitMS: spec.BatchWaitMS,
		SigningSecretSet: spec.SigningSecret != "", HashPII: spec.HashPII, StrictDisable: spec.StrictDisable,
		MaxAttempts: spec.MaxAttempts, GiveUpAfter: spec.GiveUpAfter.String(), RateLimitPerS: spec.RateLimitPerS,
		MaxBodyBytes: spec.MaxBodyBytes, HealthSettings: spec.HealthSettings, AutoProbeMinutes: spec.AutoProbeMinutes,
		BodyFormat: spec.BodyFormat, BodyTemplate: spec.BodyTemplate, TemplateType: spec.TemplateType(),
		SignatureScheme: spec.SignatureScheme, SignatureHeader: spec.SignatureHeaderName(),
		Health: newHealthJSON(w, s.now()), DisabledAt: w.DisabledAt,
		Status: w.Status, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
	out.Subscriptions = spec.Subscriptions
	if out.Subscriptions == nil {
		out.Subscriptions = []models.Subscription{}
	}
	out.HashedFields = []string{}
	if spec.HashPII {
		out.HashedFields = payload.HashedFields()
	}
	if spec.BasicAuth != nil {
		out.BasicAuth = &basicAuthJSON{Username: spec.BasicAuth.Username, PasswordSet: spec.BasicAuth.Password != ""}
	}
	for _, h := range spec.Headers {
		out.Headers = append(out.Headers, headerJSON{Name: h.Name, ValueSet: h.Value != ""})
	}
	if lastTest != nil {
		out.LastTest = httpx.NewTestJSON(lastTest)
	}
	return out, nil
}

// presentOne renders one asset with its latest test.
func (s *Handlers) presentOne(ctx context.Context, w *models.Webhook) (webhookJSON, error) {
	tests, err := s.store.LastTests(ctx, []int64{w.ID})
	if err != nil {
		return webhookJSON{}, err
	}
	var last *models.WebhookTest
	if t, ok := tests[w.ID]; ok {
		last = &t
	}
	return s.presentWebhook(w, last)
}
