package ui

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The target of next= after sign-in is a clean path on this site or "/":
// nothing a browser could read as another site, before or after decoding.
func TestLocalPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"protocol-relative", "//x", "/"},
		{"backslash second", `/\x`, "/"},
		{"encoded tab", "/%09/x", "/"},
		{"raw tab", "/\t/x", "/"},
		{"raw newline", "/\n/x", "/"},
		{"encoded slashes", "%2F%2Fx", "/"},
		{"encoded second slash", "/%2F/x", "/"},
		{"double-encoded second slash", "/%252F/x", "/"},
		{"encoded backslash", "/%5Cx", "/"},
		{"backslash later", `/webhooks\x`, "/"},
		{"space", "/ /x", "/"},
		{"absolute URL", "https://evil.example", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"bad escape", "/webhooks%zz", "/"},
		{"empty", "", "/"},
		{"query", "/webhooks?x=1", "/webhooks?x=1"},
		{"invitation", "/invitations/abc", "/invitations/abc"},
		{"root", "/", "/"},
		{"encoded slash inside", "/webhooks/a%2Fb", "/webhooks/a%2Fb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := localPath(tc.in); got != tc.want {
				t.Errorf("localPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestBackTo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, back, want string }{
		{"the filtered log", "/webhooks/7?status=failed&tab=deliveries#logs", "/webhooks/7?status=failed&tab=deliveries#logs"},
		{"nothing", "", "/webhooks/7#logs"},
		{"another webhook", "/webhooks/8?status=failed#logs", "/webhooks/7#logs"},
		{"a longer id", "/webhooks/70?x=1", "/webhooks/7#logs"},
		{"another site", "//evil.example/webhooks/7?x", "/webhooks/7#logs"},
		{"an escaped slash", "/%2F/evil.example", "/webhooks/7#logs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, backTo(tc.back, "/webhooks/7"))
		})
	}
}
