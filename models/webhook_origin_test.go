package models

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://a.example/x", "https://a.example/y?z=1", true},
		{"https://a.example/x", "https://A.EXAMPLE:443/", true},
		{"http://a.example/", "http://a.example:80/", true},
		{"http://[::1]:8080/", "http://[::1]:8080/other", true},
		{"https://a.example/", "http://a.example/", false},
		{"https://a.example/", "https://a.example:8443/", false},
		{"https://a.example/", "https://b.example/", false},
		{"https://a.example/", "https://a.example.evil.example/", false},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9001/", false},
		// Unicode case folding is not what net/http dials: İ and ẞ fold to
		// i and ß, but IDNA sends them to other names.
		{"https://hooks.zapier.example/", "https://hooks.zapİer.example/", false},
		{"https://straße.example/", "https://STRAẞE.example/", false},
		{"https://bücher.example/", "https://xn--bcher-kva.example/", true},
		{"https://BÜCHER.example/", "https://bücher.example/", true},
	} {
		t.Run(tc.a+" "+tc.b, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.same, SameOrigin(tc.a, tc.b))
		})
	}
}

func TestApplyRefusesStoredSecretsForANewOrigin(t *testing.T) {
	t.Parallel()
	stored := func() WebhookSpec {
		s := DefaultWebhookSpec()
		s.URL = "https://a.example/hook"
		s.BasicAuth = &BasicAuth{Username: "u", Password: "p"}
		s.Headers = []Header{{"X-Key", "k"}, {"X-Tenant", "t"}}
		return s
	}
	str := func(s string) *string { return &s }
	moved := str("https://b.example/hook")
	for _, tc := range []struct {
		name  string
		in    WebhookInput
		field string // "" when the input is accepted
	}{
		{"same origin keeps everything", WebhookInput{URL: str("https://a.example/other")}, ""},
		{"new origin, nothing retyped", WebhookInput{URL: moved}, "basic_auth.password"},
		{"new origin, password kept", WebhookInput{URL: moved,
			BasicAuth: Optional[BasicAuthInput]{Set: true, Value: BasicAuthInput{Username: "u"}},
			Headers:   &[]HeaderInput{{Name: "X-Key", Value: str("k2")}}}, "basic_auth.password"},
		{"new origin, a header kept", WebhookInput{URL: moved,
			BasicAuth: Optional[BasicAuthInput]{Set: true, Value: BasicAuthInput{Username: "u", Password: str("p2")}},
			Headers:   &[]HeaderInput{{Name: "X-Key", Value: str("k2")}, {Name: "X-Tenant"}}}, "headers[1].value"},
		{"new origin, headers not mentioned", WebhookInput{URL: moved,
			BasicAuth: Optional[BasicAuthInput]{Set: true, Null: true}}, "headers[0].value"},
		{"new origin, all retyped", WebhookInput{URL: moved,
			BasicAuth: Optional[BasicAuthInput]{Set: true, Value: BasicAuthInput{Username: "u", Password: str("p2")}},
			Headers:   &[]HeaderInput{{Name: "X-Key", Value: str("k2")}}}, ""},
		{"new origin, secrets removed", WebhookInput{URL: moved,
			BasicAuth: Optional[BasicAuthInput]{Set: true, Null: true}, Headers: &[]HeaderInput{}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := stored()
			err := tc.in.Apply(&spec)
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
			require.Contains(t, ve.Message, "https://a.example:443")
		})
	}
}
