package models

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/idna"
)

// WebhookStatus is where an asset stands in its life cycle.
type WebhookStatus string

// Statuses of a webhook asset.
const (
	// StatusUntested: never tested, or its URL, method, auth or headers
	// changed since the last passing test. It sends nothing.
	StatusUntested WebhookStatus = "untested"
	// StatusActive: verified and in service.
	StatusActive WebhookStatus = "active"
	// StatusInactive: verified but switched off by a person.
	StatusInactive WebhookStatus = "inactive"
	// StatusDisabled: switched off by the failure tracker.
	StatusDisabled WebhookStatus = "disabled"
)

// webhookMoves lists, for each status, the statuses a webhook may come to
// it from.
var webhookMoves = map[WebhookStatus][]WebhookStatus{
	// Activate (ActivateWebhook), once the configuration passed a test, or
	// the automatic probe of a disabled webhook.
	StatusActive: {StatusUntested, StatusInactive, StatusDisabled},
	// Deactivate (DeactivateWebhook): by hand, from service or from a
	// disable. An untested webhook is not in service to leave it.
	StatusInactive: {StatusActive, StatusDisabled},
	// The failure tracker (DisableWebhook, whose SQL checks the same: only
	// an active webhook is sending).
	StatusDisabled: {StatusActive},
	// A change of what a test verifies (UpdateWebhook). A disabled webhook
	// stays disabled: it needs a new passing test to come back anyway, and
	// its status tells why it is out of service.
	StatusUntested: {StatusActive, StatusInactive},
}

// CanMoveTo reports whether a webhook of status s may take status to. A
// status may always stay as it is; the caller decides what staying means.
func (s WebhookStatus) CanMoveTo(to WebhookStatus) bool {
	return s == to || slices.Contains(webhookMoves[to], s)
}

// Methods a webhook may use. GET sends data= in the query string.
const (
	MethodPost = "POST"
	MethodGet  = "GET"
)

// Limits on a webhook's settings.
const (
	DefaultBatchSize   = 100
	MaxBatchSize       = 1000
	DefaultBatchWaitMS = 1000
	MaxBatchWaitMS     = 300_000 // five minutes: longer waits would surprise more than they save
	DefaultMaxAttempts = 9       // the first try and eight retries
	MaxMaxAttempts     = 30
	DefaultGiveUpAfter = 72 * time.Hour
	minGiveUpAfter     = time.Minute
	maxGiveUpAfter     = 30 * 24 * time.Hour
	MaxRateLimitPerS   = 10_000
	DefaultMaxBody     = 1 << 20 // most receivers refuse larger bodies
	minMaxBody         = 16 << 10
	maxMaxBody         = 10 << 20
	maxHeaders         = 50
	maxURLLength       = 2048
	maxLabelLength     = 200
	maxDescription     = 2000
	maxSecretLength    = 4096
)

// Webhook is a webhook asset as stored. Secret columns hold ciphertext; use
// Store.Spec for the configuration in clear.
type Webhook struct {
	ID                int64
	PanelID           int64
	Label             string
	Description       string
	URL               string
	Method            string
	BasicAuthUser     string
	BasicAuthPassword []byte
	Headers           []byte
	SigningSecret     []byte
	BatchSize         int
	BatchWaitMS       int `gorm:"column:batch_wait_ms"`
	HashPII           bool
	StrictDisable     bool
	MaxAttempts       int
	GiveUpAfterS      int `gorm:"column:give_up_after_s"`
	RateLimitPerS     int `gorm:"column:rate_limit_per_s"`
	MaxBodyBytes      int
	// BodyFormat, BodyTemplate, TemplateContentType, SignatureScheme and
	// SignatureHeader: see the constants in webhook_body.go.
	BodyFormat          string
	BodyTemplate        string
	TemplateContentType string
	SignatureScheme     string
	SignatureHeader     string
	// Health is the failure tracker's state (package jobs/health), written
	// by the worker holding the send lease.
	Health json.RawMessage `gorm:"type:jsonb"`
	// HealthSettings are thresholds overriding the panel's.
	HealthSettings json.RawMessage `gorm:"type:jsonb"`
	// Subscriptions are the events delivered to the asset without a
	// journey, as JSON: [{"event", "source"?, "channel"?}].
	Subscriptions    json.RawMessage `gorm:"type:jsonb"`
	DisabledAt       *time.Time
	AutoProbeMinutes int
	LastProbeAt      *time.Time
	Status           WebhookStatus
	ConfigFP         []byte
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// BasicAuth is HTTP basic authentication in clear.
type BasicAuth struct {
	Username string
	Password string
}

// Header is one custom request header in clear.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// WebhookSpec is a webhook asset's whole configuration in clear: what a
// person edits, what is validated and what the sender uses.
type WebhookSpec struct {
	Label         string
	Description   string
	URL           string
	Method        string
	BasicAuth     *BasicAuth
	Headers       []Header
	SigningSecret string
	BatchSize     int
	BatchWaitMS   int
	HashPII       bool
	StrictDisable bool
	// MaxAttempts bounds the requests made for one delivery.
	MaxAttempts int
	// GiveUpAfter bounds how long a delivery is retried.
	GiveUpAfter time.Duration
	// RateLimitPerS caps requests per second to the endpoint; 0 means no cap.
	RateLimitPerS int
	// MaxBodyBytes caps one request body; a larger batch is split.
	MaxBodyBytes int
	// HealthSettings are failure-tracker thresholds overriding the panel's,
	// as JSON (package jobs/health checks them).
	HealthSettings json.RawMessage
	// AutoProbeMinutes: when disabled, test the endpoint this often and
	// re-enable it after a 200; 0 is off.
	AutoProbeMinutes int
	// BodyFormat is form, json or template (BodyForm...).
	BodyFormat string
	// BodyTemplate is the Liquid body of the template format.
	BodyTemplate string
	// TemplateContentType is the Content-Type of a rendered template.
	TemplateContentType string
	// SignatureScheme says how a signing secret signs: standard-webhooks
	// or hmac-sha256; SignatureHeader names the hmac-sha256 header.
	SignatureScheme string
	SignatureHeader string
	// Subscriptions name the ingested events the asset receives without a
	// journey.
	Subscriptions []Subscription
}

// DefaultWebhookSpec is the starting point of a new asset.
func DefaultWebhookSpec() WebhookSpec {
	return WebhookSpec{Method: MethodPost, BatchSize: DefaultBatchSize, BatchWaitMS: DefaultBatchWaitMS,
		MaxAttempts: DefaultMaxAttempts, GiveUpAfter: DefaultGiveUpAfter, MaxBodyBytes: DefaultMaxBody,
		HealthSettings: json.RawMessage(`{}`), BodyFormat: BodyForm, TemplateContentType: ContentTypeJSON,
		SignatureScheme: SignatureStandard, SignatureHeader: DefaultSignatureHeader}
}

// fingerprintInput is what a test verifies: changing any of it makes the
// asset untested again. Batch settings and the signing secret do not change
// whether the receiver accepts a request, so they are left out; the body
// format and the signature scheme do. Their defaults are left out of the
// hash, so an asset saved before they existed keeps its fingerprint.
func (s *WebhookSpec) fingerprintInput() []byte {
	v := struct {
		URL, Method, User, Password string
		Auth                        bool
		Headers                     []Header
		Format                      string `json:",omitempty"`
		Template, ContentType       string `json:",omitempty"`
		Scheme, SignatureHeader     string `json:",omitempty"`
	}{URL: s.URL, Method: s.Method, Headers: s.Headers}
	if s.BodyFormat != BodyForm && s.BodyFormat != "" {
		v.Format = s.BodyFormat
	}
	if s.BodyFormat == BodyTemplate {
		v.Template, v.ContentType = s.BodyTemplate, s.TemplateType()
	}
	if s.SignatureScheme == SignatureHMAC {
		v.Scheme, v.SignatureHeader = s.SignatureScheme, s.SignatureHeaderName()
	}
	if len(v.Headers) == 0 {
		// No headers is one configuration whether a form sent an empty
		// list or a stored row has none: [] and null must not differ.
		v.Headers = nil
	}
	if s.BasicAuth != nil {
		v.Auth, v.User, v.Password = true, s.BasicAuth.Username, s.BasicAuth.Password
	}
	b, _ := json.Marshal(v)
	return b
}

// Optional is a JSON field that tells "absent" from "null" from a value,
// which PATCH needs: absent keeps, null removes, a value replaces.
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON records that the field was present.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(&o.Value)
}

// WebhookInput is the JSON a client sends to create, update or test an
// asset. Absent fields keep their current value.
type WebhookInput struct {
	Label         *string                  `json:"label"`
	Description   *string                  `json:"description"`
	URL           *string                  `json:"url"`
	Method        *string                  `json:"method"`
	BasicAuth     Optional[BasicAuthInput] `json:"basic_auth"`
	Headers       *[]HeaderInput           `json:"headers"`
	BatchSize     *int                     `json:"batch_size"`
	BatchWaitMS   *int                     `json:"batch_wait_ms"`
	SigningSecret *string                  `json:"signing_secret"`
	HashPII       *bool                    `json:"hash_pii"`
	StrictDisable *bool                    `json:"strict_disable"`
	MaxAttempts   *int                     `json:"max_attempts"`
	GiveUpAfter   *string                  `json:"give_up_after"` // a Go duration, e.g. "72h"
	RateLimitPerS *int                     `json:"rate_limit_per_s"`
	MaxBodyBytes  *int                     `json:"max_body_bytes"`
	// HealthSettings replaces the asset's thresholds; {} inherits the panel's.
	HealthSettings      *json.RawMessage `json:"health_settings"`
	AutoProbeMinutes    *int             `json:"auto_probe_minutes"`
	BodyFormat          *string          `json:"body_format"`
	BodyTemplate        *string          `json:"body_template"`
	TemplateContentType *string          `json:"template_content_type"`
	SignatureScheme     *string          `json:"signature_scheme"`
	SignatureHeader     *string          `json:"signature_header"`
	// Subscriptions replaces the asset's subscriptions; [] removes them.
	Subscriptions *[]Subscription `json:"subscriptions"`
}

// BasicAuthInput sets basic auth; a missing password keeps the stored one.
type BasicAuthInput struct {
	Username string  `json:"username"`
	Password *string `json:"password"`
}

// HeaderInput sets a header; a missing value keeps the stored value of the
// header with the same name, so a client can edit headers it cannot read.
type HeaderInput struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// Apply merges the input into spec. It reports references to stored values
// that do not exist; Validate checks everything else.
func (in *WebhookInput) Apply(spec *WebhookSpec) error {
	savedFor := spec.URL // the address the stored secrets were given for
	if in.Label != nil {
		spec.Label = strings.TrimSpace(*in.Label)
	}
	if in.Description != nil {
		spec.Description = strings.TrimSpace(*in.Description)
	}
	if in.URL != nil {
		spec.URL = strings.TrimSpace(*in.URL)
	}
	if in.Method != nil {
		spec.Method = strings.ToUpper(strings.TrimSpace(*in.Method))
	}
	if in.BasicAuth.Set {
		switch {
		case in.BasicAuth.Null || (in.BasicAuth.Value.Username == "" && in.BasicAuth.Value.Password == nil):
			spec.BasicAuth = nil
		default:
			ba := &BasicAuth{Username: in.BasicAuth.Value.Username}
			switch {
			case in.BasicAuth.Value.Password != nil:
				ba.Password = *in.BasicAuth.Value.Password
			case spec.BasicAuth != nil:
				ba.Password = spec.BasicAuth.Password
			default:
				return invalid("basic_auth.password", "is required")
			}
			spec.BasicAuth = ba
		}
	}
	if in.Headers != nil {
		headers := make([]Header, 0, len(*in.Headers))
		for i, h := range *in.Headers {
			name := strings.TrimSpace(h.Name)
			if h.Value != nil {
				headers = append(headers, Header{Name: name, Value: *h.Value})
				continue
			}
			old, ok := findHeader(spec.Headers, name)
			if !ok {
				return invalid(fmt.Sprintf("headers[%d].value", i), "is required for a new header")
			}
			headers = append(headers, Header{Name: name, Value: old})
		}
		spec.Headers = headers
	}
	if in.BatchSize != nil {
		spec.BatchSize = *in.BatchSize
	}
	if in.BatchWaitMS != nil {
		spec.BatchWaitMS = *in.BatchWaitMS
	}
	if in.SigningSecret != nil {
		spec.SigningSecret = strings.TrimSpace(*in.SigningSecret)
	}
	if in.HashPII != nil {
		spec.HashPII = *in.HashPII
	}
	if in.StrictDisable != nil {
		spec.StrictDisable = *in.StrictDisable
	}
	if in.MaxAttempts != nil {
		spec.MaxAttempts = *in.MaxAttempts
	}
	if in.GiveUpAfter != nil {
		d, err := time.ParseDuration(strings.TrimSpace(*in.GiveUpAfter))
		if err != nil {
			return invalid("give_up_after", "must be a duration such as 72h or 90m")
		}
		spec.GiveUpAfter = d
	}
	if in.RateLimitPerS != nil {
		spec.RateLimitPerS = *in.RateLimitPerS
	}
	if in.MaxBodyBytes != nil {
		spec.MaxBodyBytes = *in.MaxBodyBytes
	}
	if in.HealthSettings != nil {
		spec.HealthSettings = *in.HealthSettings
	}
	if in.AutoProbeMinutes != nil {
		spec.AutoProbeMinutes = *in.AutoProbeMinutes
	}
	in.applyFormat(spec)
	if in.Subscriptions != nil {
		spec.Subscriptions = *in.Subscriptions
	}
	if savedFor != "" && !SameOrigin(savedFor, spec.URL) {
		if kept := in.keptSecrets(spec); len(kept) > 0 {
			return invalid(kept[0], "was saved for %s and is not sent to another address: enter it again (%s)",
				Origin(savedFor), strings.Join(kept, ", "))
		}
	}
	return nil
}

// keptSecrets names the secrets the input leaves as stored rather than
// giving them anew: a password or header value it omits, or the whole basic
// auth or header list when it does not mention them. spec is the result of
// Apply, whose headers stand in the input's order.
func (in *WebhookInput) keptSecrets(spec *WebhookSpec) []string {
	var kept []string
	switch {
	case spec.BasicAuth == nil:
	case !in.BasicAuth.Set, in.BasicAuth.Value.Password == nil:
		kept = append(kept, "basic_auth.password")
	}
	for i := range spec.Headers {
		if in.Headers == nil || (*in.Headers)[i].Value == nil {
			kept = append(kept, fmt.Sprintf("headers[%d].value", i))
		}
	}
	return kept
}

// Origin is the scheme, host and port a URL sends to, the unit that stored
// secrets are bound to (as browsers bind cookies and credentials): the
// default port is written out, so http://a and http://a:80 are one origin.
// The host is compared in the ASCII form net/http dials (idna.Lookup, as
// its Transport does), not by Unicode case folding, which maps some names
// (İ, ẞ) to another host than the one dialled.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	scheme, port := strings.ToLower(u.Scheme), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	host := u.Hostname()
	if !isASCII(host) {
		host, err = idna.Lookup.ToASCII(host)
	}
	if err != nil {
		return raw // not a host net/http would dial: never the same origin as a valid one
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(host), port)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// SameOrigin reports whether two URLs send to the same origin.
func SameOrigin(a, b string) bool { return Origin(a) == Origin(b) }

func findHeader(hs []Header, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// reservedHeaders are set by Herald or by HTTP itself; a custom header of
// the same name would corrupt the request or forge Herald's own headers.
// User-Agent and Accept-Encoding are among them because the sender keeps
// the case a name was typed in: net/http looks for its canonical form, so
// "user-agent" or "accept-encoding" would be sent next to Herald's own.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "keep-alive": true, "upgrade": true, "te": true, "trailer": true,
	"expect": true, "proxy-connection": true, "user-agent": true, "accept-encoding": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
}

// Validate checks a whole configuration. requireLabel is false when testing
// an unsaved configuration, which needs no name yet.
func (s *WebhookSpec) Validate(requireLabel bool) error {
	if requireLabel && s.Label == "" {
		return invalid("label", "is required")
	}
	if len(s.Label) > maxLabelLength {
		return invalid("label", "is longer than %d characters", maxLabelLength)
	}
	if hasControl(s.Label) {
		return invalid("label", "must not contain control characters")
	}
	if len(s.Description) > maxDescription {
		return invalid("description", "is longer than %d characters", maxDescription)
	}
	if err := validateURL(s.URL); err != nil {
		return err
	}
	if s.Method != MethodPost && s.Method != MethodGet {
		return invalid("method", "must be POST or GET")
	}
	if ba := s.BasicAuth; ba != nil {
		switch {
		case ba.Username == "":
			return invalid("basic_auth.username", "is required")
		case strings.Contains(ba.Username, ":"):
			return invalid("basic_auth.username", "must not contain ':'")
		case hasControl(ba.Username):
			return invalid("basic_auth.username", "must not contain control characters")
		case hasControl(ba.Password):
			return invalid("basic_auth.password", "must not contain control characters")
		case len(ba.Username) > 256 || len(ba.Password) > maxSecretLength:
			return invalid("basic_auth", "is too long")
		}
	}
	if len(s.Headers) > maxHeaders {
		return invalid("headers", "at most %d headers", maxHeaders)
	}
	seen := map[string]bool{}
	for i, h := range s.Headers {
		field := fmt.Sprintf("headers[%d]", i)
		lower := strings.ToLower(h.Name)
		switch {
		case !isToken(h.Name):
			return invalid(field+".name", "%q is not a valid header name", h.Name)
		case reservedHeaders[lower]:
			return invalid(field+".name", "%s is set by Herald and cannot be overridden", h.Name)
		case lower == "authorization" && s.BasicAuth != nil:
			return invalid(field+".name", "Authorization cannot be set together with basic auth")
		case seen[lower]:
			return invalid(field+".name", "%s is given twice", h.Name)
		case hasControl(h.Value):
			// CR and LF would split the header, and net/http refuses to
			// send the others except tab, which no value needs.
			return invalid(field+".value", "must not contain control characters")
		case len(h.Value) > maxSecretLength:
			return invalid(field+".value", "is longer than %d bytes", maxSecretLength)
		}
		seen[lower] = true
	}
	if s.BatchSize < 1 || s.BatchSize > MaxBatchSize {
		return invalid("batch_size", "must be between 1 and %d", MaxBatchSize)
	}
	if s.BatchWaitMS < 0 || s.BatchWaitMS > MaxBatchWaitMS {
		return invalid("batch_wait_ms", "must be between 0 and %d", MaxBatchWaitMS)
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > MaxMaxAttempts {
		return invalid("max_attempts", "must be between 1 and %d", MaxMaxAttempts)
	}
	if s.GiveUpAfter < minGiveUpAfter || s.GiveUpAfter > maxGiveUpAfter {
		return invalid("give_up_after", "must be between %v and %v", minGiveUpAfter, maxGiveUpAfter)
	}
	if s.RateLimitPerS < 0 || s.RateLimitPerS > MaxRateLimitPerS {
		return invalid("rate_limit_per_s", "must be between 0 (no limit) and %d", MaxRateLimitPerS)
	}
	if s.MaxBodyBytes < minMaxBody || s.MaxBodyBytes > maxMaxBody {
		return invalid("max_body_bytes", "must be between %d and %d", minMaxBody, maxMaxBody)
	}
	if s.AutoProbeMinutes < 0 || s.AutoProbeMinutes > 1440 {
		return invalid("auto_probe_minutes", "must be between 0 (off) and 1440")
	}
	if len(s.HealthSettings) > 0 && !json.Valid(s.HealthSettings) {
		return invalid("health_settings", "must be an object")
	}
	if s.SigningSecret != "" {
		if _, err := DecodeSigningSecret(s.SigningSecret); err != nil {
			return invalid("signing_secret", "%v", err)
		}
	}
	subs, err := normalizeSubscriptions(s.Subscriptions)
	if err != nil {
		return err
	}
	s.Subscriptions = subs
	return s.ValidateFormat()
}

func validateURL(raw string) error {
	if raw == "" {
		return invalid("url", "is required")
	}
	if len(raw) > maxURLLength {
		return invalid("url", "is longer than %d characters", maxURLLength)
	}
	if hasControl(raw) || strings.ContainsAny(raw, " \t") {
		return invalid("url", "must not contain spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("url", "is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return invalid("url", "must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return invalid("url", "has no host")
	}
	// An IPv6 zone (http://[fe80::1%25eth0]/) names a network interface of
	// this host, so it never leads to a receiver on the internet; address
	// ranges do not match a zoned address, and the SSRF guard refuses it
	// again when dialling.
	if strings.HasPrefix(u.Host, "[") && strings.Contains(u.Host, "%") {
		return invalid("url", "must not contain an IPv6 zone (%%25...): it names a network interface of this host")
	}
	// url.Parse lets through hosts such as a<b that net/http will not put
	// in a Host header (it sends an empty one instead); refuse them as
	// net/http judges them.
	if host, err := httpguts.PunycodeHostPort(u.Host); err != nil || !httpguts.ValidHostHeader(host) {
		return invalid("url", "has an invalid host")
	}
	// For GET the sender adds data= to the query and sends u.String(),
	// which must parse back to the same host (an IPv6 zone holding a byte
	// that is not ASCII does not).
	if back, err := url.Parse(u.String()); err != nil || back.Host != u.Host {
		return invalid("url", "has an invalid host")
	}
	if u.User != nil {
		return invalid("url", "must not contain credentials; use basic_auth")
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		tchar := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !tchar {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

const signingSecretPrefix = "whsec_"

// NewSigningSecret returns a fresh Standard Webhooks secret (whsec_ + 32
// random bytes in base64).
func NewSigningSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return signingSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// DecodeSigningSecret returns the HMAC key inside a whsec_ secret.
func DecodeSigningSecret(s string) ([]byte, error) {
	raw, ok := strings.CutPrefix(s, signingSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %s", signingSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("must be %s followed by base64", signingSecretPrefix)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("key must be 24 to 64 bytes, got %d", len(key))
	}
	return key, nil
}
