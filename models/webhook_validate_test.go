package models

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func validSpec() WebhookSpec {
	s := DefaultWebhookSpec()
	s.Label = "Email Open Webhook"
	s.URL = "https://hooks.example.com/in"
	return s
}

func TestWebhookSpecValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*WebhookSpec)
		field  string // "" means valid
	}{
		{"valid", func(*WebhookSpec) {}, ""},
		{"valid GET with auth and headers", func(s *WebhookSpec) {
			s.Method = MethodGet
			s.BasicAuth = &BasicAuth{Username: "u", Password: "p:w"}
			s.Headers = []Header{{"X-Api-Key", "k"}, {"X-Tenant", "t"}}
		}, ""},
		{"missing label", func(s *WebhookSpec) { s.Label = "" }, "label"},
		{"label with newline", func(s *WebhookSpec) { s.Label = "a\nb" }, "label"},
		{"missing url", func(s *WebhookSpec) { s.URL = "" }, "url"},
		{"ftp url", func(s *WebhookSpec) { s.URL = "ftp://example.com/x" }, "url"},
		{"no scheme", func(s *WebhookSpec) { s.URL = "example.com/x" }, "url"},
		{"no host", func(s *WebhookSpec) { s.URL = "http:///path" }, "url"},
		{"credentials in url", func(s *WebhookSpec) { s.URL = "https://u:p@example.com/" }, "url"},
		{"space in url", func(s *WebhookSpec) { s.URL = "https://example.com/a b" }, "url"},
		{"bad method", func(s *WebhookSpec) { s.Method = "PUT" }, "method"},
		{"user with colon", func(s *WebhookSpec) { s.BasicAuth = &BasicAuth{Username: "a:b", Password: "p"} }, "basic_auth.username"},
		{"empty user", func(s *WebhookSpec) { s.BasicAuth = &BasicAuth{Password: "p"} }, "basic_auth.username"},
		{"header name not a token", func(s *WebhookSpec) { s.Headers = []Header{{"X Bad", "v"}} }, "headers[0].name"},
		{"header name empty", func(s *WebhookSpec) { s.Headers = []Header{{"", "v"}} }, "headers[0].name"},
		{"header value with CR", func(s *WebhookSpec) { s.Headers = []Header{{"X-A", "v\rX-Evil: 1"}} }, "headers[0].value"},
		{"header value with LF", func(s *WebhookSpec) { s.Headers = []Header{{"X-A", "ok"}, {"X-B", "v\nx"}} }, "headers[1].value"},
		{"header value with a control character", func(s *WebhookSpec) { s.Headers = []Header{{"X-A", "a\x01b"}} }, "headers[0].value"},
		{"host net/http would blank", func(s *WebhookSpec) { s.URL = "http://a<b>.example/" }, "url"},
		{"reserved Host", func(s *WebhookSpec) { s.Headers = []Header{{"Host", "evil"}} }, "headers[0].name"},
		{"reserved user-agent", func(s *WebhookSpec) { s.Headers = []Header{{"user-agent", "Mine/1"}} }, "headers[0].name"},
		{"reserved accept-encoding", func(s *WebhookSpec) { s.Headers = []Header{{"accept-encoding", "br"}} }, "headers[0].name"},
		{"reserved content-length", func(s *WebhookSpec) { s.Headers = []Header{{"content-length", "1"}} }, "headers[0].name"},
		{"reserved Content-Type", func(s *WebhookSpec) { s.Headers = []Header{{"Content-Type", "text/plain"}} }, "headers[0].name"},
		{"reserved Transfer-Encoding", func(s *WebhookSpec) { s.Headers = []Header{{"Transfer-Encoding", "chunked"}} }, "headers[0].name"},
		{"reserved Connection", func(s *WebhookSpec) { s.Headers = []Header{{"Connection", "close"}} }, "headers[0].name"},
		{"Authorization alone is fine", func(s *WebhookSpec) { s.Headers = []Header{{"Authorization", "Bearer x"}} }, ""},
		{"Authorization with basic auth", func(s *WebhookSpec) {
			s.BasicAuth = &BasicAuth{Username: "u", Password: "p"}
			s.Headers = []Header{{"Authorization", "Bearer x"}}
		}, "headers[0].name"},
		{"duplicate header", func(s *WebhookSpec) { s.Headers = []Header{{"X-A", "1"}, {"x-a", "2"}} }, "headers[1].name"},
		{"batch size 0", func(s *WebhookSpec) { s.BatchSize = 0 }, "batch_size"},
		{"batch size 1001", func(s *WebhookSpec) { s.BatchSize = 1001 }, "batch_size"},
		{"batch wait negative", func(s *WebhookSpec) { s.BatchWaitMS = -1 }, "batch_wait_ms"},
		{"bad signing secret", func(s *WebhookSpec) { s.SigningSecret = "secret" }, "signing_secret"},
		{"good signing secret", func(s *WebhookSpec) { s.SigningSecret = NewSigningSecret() }, ""},
		{"too many headers", func(s *WebhookSpec) {
			for i := range 51 {
				s.Headers = append(s.Headers, Header{Name: "X-H" + strings.Repeat("a", i), Value: "v"})
			}
		}, "headers"},
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
		})
	}
}

// An IPv6 zone names an interface of this host; [::1%25lo] reached a
// loopback-only service because address ranges never match a zoned address.
func TestWebhookURLRefusesIPv6Zone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url  string
		zone bool
	}{
		{"http://[::1%25lo]:8080/", true},
		{"http://[fe80::1%25eth0]/hook", true},
		{"https://[fe80::1%251]:443/", true},
		{"http://[2606:4700::1111%25eth0]/", true},
		{"http://[2606:4700::1111]/", false},
		{"http://[::1]:8080/", false}, // the SSRF guard judges it when it is dialled
	} {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			s := validSpec()
			s.URL = tt.url
			err := s.Validate(true)
			if !tt.zone {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "url", ve.Field)
			require.Contains(t, ve.Message, "zone")
		})
	}
}

func TestWebhookInputApplyKeepsSecretsNotResent(t *testing.T) {
	t.Parallel()
	spec := validSpec()
	spec.BasicAuth = &BasicAuth{Username: "u", Password: "old-pw"}
	spec.Headers = []Header{{"X-Api-Key", "old-key"}}

	user := "u2"
	newVal := "new"
	in := WebhookInput{
		BasicAuth: Optional[BasicAuthInput]{Set: true, Value: BasicAuthInput{Username: user}},
		Headers:   &[]HeaderInput{{Name: "x-api-key"}, {Name: "X-New", Value: &newVal}},
	}
	require.NoError(t, in.Apply(&spec))
	require.Equal(t, &BasicAuth{Username: "u2", Password: "old-pw"}, spec.BasicAuth)
	require.Equal(t, []Header{{"x-api-key", "old-key"}, {"X-New", "new"}}, spec.Headers)

	in = WebhookInput{Headers: &[]HeaderInput{{Name: "X-Unknown"}}}
	var ve *ValidationError
	require.ErrorAs(t, in.Apply(&spec), &ve)
	require.Equal(t, "headers[0].value", ve.Field)

	in = WebhookInput{BasicAuth: Optional[BasicAuthInput]{Set: true, Null: true}}
	require.NoError(t, in.Apply(&spec))
	require.Nil(t, spec.BasicAuth)
}

func TestCipher(t *testing.T) {
	t.Parallel()
	c, err := NewCipher([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	sealed := c.Seal("a", []byte("hunter2"))
	require.NotContains(t, string(sealed), "hunter2")
	plain, err := c.Open("a", sealed)
	require.NoError(t, err)
	require.Equal(t, "hunter2", string(plain))
	_, err = c.Open("b", sealed)
	require.Error(t, err, "a ciphertext must not open under another purpose")
	require.NotEqual(t, sealed, c.Seal("a", []byte("hunter2")), "nonces must differ")
	require.Nil(t, c.Seal("a", nil))

	other, _ := NewCipher([]byte("fedcba9876543210fedcba9876543210"))
	_, err = other.Open("a", sealed)
	require.Error(t, err)
	require.NotEqual(t, c.Fingerprint([]byte("x")), other.Fingerprint([]byte("x")))
}

func TestParseSecretKey(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",
		"3031323334353637383961626364656630313233343536373839616263646566",
	} {
		k, err := ParseSecretKey(s)
		require.NoError(t, err, s)
		require.Equal(t, "0123456789abcdef0123456789abcdef", string(k))
	}
	for _, s := range []string{"", "short", "MDEyMzQ1Njc4OWFiY2RlZg=="} {
		_, err := ParseSecretKey(s)
		require.Error(t, err, s)
	}
}
