package models

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWebhookSpecValidateFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*WebhookSpec)
		field  string // "" means valid
		msg    string // a part of the message, when refused
	}{
		{"form by default", func(*WebhookSpec) {}, "", ""},
		{"json", func(s *WebhookSpec) { s.BodyFormat = BodyJSON }, "", ""},
		{"unknown format", func(s *WebhookSpec) { s.BodyFormat = "xml" }, "body_format", "form, json or template"},
		{"json needs POST", func(s *WebhookSpec) { s.BodyFormat, s.Method = BodyJSON, MethodGet }, "body_format", "POST"},
		{"template", func(s *WebhookSpec) {
			s.BodyFormat, s.BodyTemplate = BodyTemplate, `{"email": {{ contact.email | json }}, "n": {{ event.name | json }}}`
		}, "", ""},
		{"form template", func(s *WebhookSpec) {
			s.BodyFormat, s.TemplateContentType, s.BodyTemplate = BodyTemplate, ContentTypeForm, `email={{ contact.email | url_encode }}`
		}, "", ""},
		{"template required", func(s *WebhookSpec) { s.BodyFormat = BodyTemplate }, "body_template", "required"},
		{"template that does not parse", func(s *WebhookSpec) {
			s.BodyFormat, s.BodyTemplate = BodyTemplate, "{\n  \"a\": {% if x %}1\n}"
		}, "body_template", "line 2, column 8"},
		{"unknown filter", func(s *WebhookSpec) {
			s.BodyFormat, s.BodyTemplate = BodyTemplate, "{\"a\": 1,\n \"b\": {{ contact.email | nope }}}"
		}, "body_template", "line 2, column 7"},
		{"invalid JSON rendered", func(s *WebhookSpec) {
			s.BodyFormat, s.BodyTemplate = BodyTemplate, "{\n  \"email\": {{ contact.email }}\n}"
		}, "body_template", "invalid JSON at line 2, column 13"},
		{"invalid JSON is fine for a form", func(s *WebhookSpec) {
			s.BodyFormat, s.TemplateContentType, s.BodyTemplate = BodyTemplate, ContentTypeForm, "{ {{ contact.email }}"
		}, "", ""},
		{"no ranges", func(s *WebhookSpec) {
			s.BodyFormat, s.BodyTemplate = BodyTemplate, "[\n  {% for i in (1..100000000) %}{{ i }},{% endfor %}0]"
		}, "body_template", "line 2, column 3: ranges"},
		{"loops nested over a split list", func(s *WebhookSpec) {
			s.BodyFormat, s.TemplateContentType = BodyTemplate, ContentTypeForm
			s.BodyTemplate = "{% assign xs = '" + strings.Repeat("a,", 2000) + "' | split: ',' %}\n" +
				"x={% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}"
		}, "body_template", "line 2, column 3: loops run too long"},
		{"no include", func(s *WebhookSpec) {
			s.BodyFormat, s.TemplateContentType, s.BodyTemplate = BodyTemplate, ContentTypeForm, `a={% include "/etc/hostname" %}`
		}, "body_template", "line 1, column 3: include is not supported"},
		{"unknown content type", func(s *WebhookSpec) { s.TemplateContentType = "text/plain" }, "template_content_type", ""},
		{"hmac", func(s *WebhookSpec) { s.SignatureScheme = SignatureHMAC }, "", ""},
		{"hmac with own header", func(s *WebhookSpec) { s.SignatureScheme, s.SignatureHeader = SignatureHMAC, "X-Hub-Signature-256" }, "", ""},
		{"unknown scheme", func(s *WebhookSpec) { s.SignatureScheme = "md5" }, "signature_scheme", ""},
		{"signature header not a token", func(s *WebhookSpec) { s.SignatureHeader = "X Sig" }, "signature_header", ""},
		{"signature header reserved", func(s *WebhookSpec) { s.SignatureHeader = "Content-Type" }, "signature_header", ""},
		{"signature header is the timestamp", func(s *WebhookSpec) { s.SignatureHeader = TimestampHeader }, "signature_header", ""},
		{"custom header clashes with hmac header", func(s *WebhookSpec) {
			s.SignatureScheme, s.Headers = SignatureHMAC, []Header{{"x-webhook-signature", "forged"}}
		}, "headers[0].name", ""},
		{"custom header named like the signature is fine without hmac", func(s *WebhookSpec) {
			s.Headers = []Header{{"X-Webhook-Signature", "v"}}
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := validSpec()
			tt.change(&s)
			err := s.Validate(true)
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tt.field, ve.Field, ve.Message)
			require.Contains(t, ve.Message, tt.msg)
		})
	}
}

func TestIteratesEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want bool
	}{
		{`{{ event.name }}`, false},
		{`[{% for e in events %}{{ e.event.name | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]`, true},
		{`{{ events | size }}`, true},
		{`events outside markup {{ event.name }}`, false},
		{`{{ my_events }}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, IteratesEvents(tt.src))
		})
	}
}

func TestTemplateVarsOfAJourneyItem(t *testing.T) {
	t.Parallel()
	item := []byte(`{"delivery_id":"dlv_1","webhook_name":"W","msgid":"546","channel":"email","event":"open",` +
		`"journey_name":"Cart","event_params":{"email":"a@b.com","timestamp":"2022-12-02T15:48:05","ts":221202154805},` +
		`"custom_params":{"Action":"Open"},"att_params":{"EMAIL":"a@b.com","FIRSTNAME":"Ann","PHONE":"+33612"},` +
		`"payload_params":{"url":"https://x.example/"}}`)
	out, err := RenderBodyTemplate(`{"id": {{ delivery_id | json }}, "panel": {{ panel | json }}, "w": {{ webhook.name | json }},`+
		` "j": {{ journey.name | json }}, "e": {{ contact.email | json }}, "p": {{ contact.phone | json }},`+
		` "f": {{ contact.FIRSTNAME | json }}, "x": {{ contact.external_id | json }}, "ev": {{ event.name | json }},`+
		` "url": {{ event.properties.url | json }}, "ts": {{ event.timestamp | json }}, "m": {{ event.msgid | json }},`+
		` "c": {{ event.channel | json }}, "a": {{ params.custom_params.Action | json }}, "n": {{ params.event_params.ts }},`+
		` "count": {{ events | size }}}`, ContentTypeJSON, TemplateVars("acme", "Hook", [][]byte{item, item}, nil))
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	require.Equal(t, map[string]any{"id": "dlv_1", "panel": "acme", "w": "Hook", "j": "Cart", "e": "a@b.com", "p": "+33612",
		"f": "Ann", "x": nil, "ev": "open", "url": "https://x.example/", "ts": "2022-12-02T15:48:05", "m": "546", "c": "email",
		"a": "Open", "n": float64(221202154805), "count": float64(2)}, got)
}

func TestTemplateVarsTakeTheLoadedContact(t *testing.T) {
	t.Parallel()
	item := []byte(`{"delivery_id":"dlv_1","event":"open","att_params":{"EMAIL":"old@b.com","FIRSTNAME":"Ann"},` +
		`"event_params":{"email":"old@b.com"}}`)
	loaded := map[string]any{"EMAIL": "a@b.com", "CITY": "Lyon", "SCORE": json.Number("7.50"),
		"email": "a@b.com", "phone": nil, "external_id": "u-1"}
	src := `{"e": {{ contact.email | json }}, "p": {{ contact.phone | json }}, "x": {{ contact.external_id | json }},` +
		` "f": {{ contact.FIRSTNAME | json }}, "city": {{ contact.CITY | json }}, "score": {{ contact.SCORE }},` +
		` "second": {{ events[1].contact.CITY | json }}}`
	out, err := RenderBodyTemplate(src, ContentTypeJSON, TemplateVars("acme", "Hook", [][]byte{item, item}, []map[string]any{loaded, nil}))
	require.NoError(t, err)
	require.JSONEq(t, `{"e": "a@b.com", "p": null, "x": "u-1", "f": "Ann", "city": "Lyon", "score": 7.50, "second": null}`, string(out),
		"the loaded contact over the item's att_params; an item without one keeps the item's")
	require.Contains(t, string(out), `"score": 7.50`, "numbers keep their digits")
}

func TestSampleItemIsThePayloadFormat(t *testing.T) {
	t.Parallel()
	b := SampleItem("W", time.Date(2022, 12, 2, 15, 48, 5, 0, time.UTC))
	var it map[string]any
	require.NoError(t, json.Unmarshal(b, &it))
	require.Equal(t, true, it["test"])
	require.EqualValues(t, 221202154805, it["event_params"].(map[string]any)["ts"])
	require.Contains(t, string(b), `{"delivery_id":"dlv_test_`)
}

func TestFingerprintCoversFormatAndSignature(t *testing.T) {
	t.Parallel()
	base := validSpec()
	legacy := base
	legacy.BodyFormat, legacy.TemplateContentType, legacy.SignatureScheme, legacy.SignatureHeader = "", "", "", ""
	require.Equal(t, string(base.fingerprintInput()), string(legacy.fingerprintInput()),
		"defaults hash as before the fields existed: saved assets keep their tests")
	changes := map[string]func(*WebhookSpec){
		"format":   func(s *WebhookSpec) { s.BodyFormat = BodyJSON },
		"template": func(s *WebhookSpec) { s.BodyFormat, s.BodyTemplate = BodyTemplate, `{}` },
		"content type": func(s *WebhookSpec) {
			s.BodyFormat, s.BodyTemplate, s.TemplateContentType = BodyTemplate, `{}`, ContentTypeForm
		},
		"scheme": func(s *WebhookSpec) { s.SignatureScheme = SignatureHMAC },
		"header": func(s *WebhookSpec) { s.SignatureScheme, s.SignatureHeader = SignatureHMAC, "X-Sig" },
	}
	seen := map[string]string{string(base.fingerprintInput()): "base"}
	for name, change := range changes {
		s := validSpec()
		change(&s)
		fp := string(s.fingerprintInput())
		require.NotContains(t, seen, fp, "%s hashes like %s", name, seen[fp])
		seen[fp] = name
	}
}

// A body over 10 MiB is refused. The template has no loop, so the loops'
// time budget (2 s) cannot end the render first on a slow machine, as it
// did in CI under -race with 20,000 loop steps of 1 KB each.
func TestRenderIsCapped(t *testing.T) {
	t.Parallel()
	_, err := RenderBodyTemplate(`{{ half }}{{ half }}`, ContentTypeForm, map[string]any{"half": strings.Repeat("x", 6<<20)})
	require.ErrorContains(t, err, "renders more than 10485760 bytes")
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "body_template", ve.Field)
}

func TestRenderIsBoundedInWork(t *testing.T) {
	t.Parallel()
	batch := func(n int) map[string]any {
		items := make([][]byte, n)
		for i := range items {
			items[i] = SampleItem("Hook", time.Now())
		}
		return TemplateVars("acme", "Hook", items, nil)
	}
	tests := []struct {
		name   string
		src    string
		events int
		want   string // the rendering, when it renders
		err    string // a part of the error, when refused
	}{
		{"a loop over 1000 events", `{% for e in events %}{{ e.contact.email | size }},{% endfor %}`, 1000,
			strings.Repeat("21,", 1000), ""},
		{"trimming and else as before", "{%- for e in events limit: 2 -%}\n [{{ forloop.index }}]\n{%- else -%}none{%- endfor -%}", 3,
			"[1][2]", ""},
		{"else of an empty loop", `{% for e in events %}x{% else %}none{% endfor %}`, 0, "none", ""},
		{"a loop nested over events", "n=\n{% for a in events %}{% for b in events %}{% for c in events %}{% endfor %}{% endfor %}{% endfor %}", 200,
			"", "line 2, column 1: loops run too long"},
		{"the step tag typed by hand adds no budget",
			"{{ nil | herald_loop_step: -99999999 }}{% for a in events %}{% for b in events %}{% for c in events %}{% endfor %}{% endfor %}{% endfor %}", 200,
			"", "loops run too long"},
		{"tablerow is a loop too", `{% tablerow a in events %}{% tablerow b in events %}{% for c in events %}{% endfor %}{% endtablerow %}{% endtablerow %}`, 200,
			"", "loops run too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := RenderBodyTemplate(tt.src, ContentTypeForm, batch(tt.events))
			if tt.err == "" {
				require.NoError(t, err)
				require.Equal(t, tt.want, string(out))
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "body_template", ve.Field)
			require.Contains(t, ve.Message, tt.err)
		})
	}
}
