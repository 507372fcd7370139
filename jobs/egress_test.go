package jobs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	allow := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		addr   string
		denied string // expected reason fragment; "" means allowed
	}{
		{"93.184.216.34", ""},
		{"2606:2800:220:1:248:1893:25c8:1946", ""},
		{"127.0.0.1", ""}, // allow-listed
		{"127.0.0.2", "loopback"},
		{"::ffff:127.0.0.2", "loopback"}, // IPv4-mapped IPv6 is unwrapped
		{"::1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.20.0.1", "private"},
		{"192.168.1.1", "private"},
		{"fd12::1", "private"},
		{"169.254.169.254", "metadata"},
		{"fd00:ec2::254", "metadata"},
		{"169.254.10.1", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"100.64.0.1", "carrier-grade"},
		{"64:ff9b::a00:1", "NAT64"},
	}
	for _, tt := range tests {
		err := CheckAddr(netip.MustParseAddr(tt.addr), allow)
		if tt.denied == "" {
			require.NoError(t, err, tt.addr)
			continue
		}
		var d *DeniedError
		require.ErrorAs(t, err, &d, tt.addr)
		require.Contains(t, d.Reason, tt.denied, tt.addr)
	}
}

// The guard runs at dial time, on the resolved address: checked here
// without connecting anywhere.
func TestDialControlChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	control := dialControl(nil)
	for _, addr := range []string{"10.0.0.1:80", "[::1]:443", "169.254.169.254:80", "127.0.0.1:8080"} {
		var d *DeniedError
		require.ErrorAs(t, control("tcp", addr, nil), &d, addr)
	}
	require.NoError(t, control("tcp4", "93.184.216.34:443", nil))
}

func TestClientRefusesLoopbackOutsideAllowList(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	allowOne := NewHTTPClient(EgressConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	allowNone := NewHTTPClient(EgressConfig{})
	for _, tc := range []struct {
		client *http.Client
		url    string
	}{
		{allowOne, "http://127.0.0.2:" + port + "/"},  // loopback, outside the allow list
		{allowNone, srv.URL},                          // nothing allow-listed
		{allowNone, "http://localhost:" + port + "/"}, // a name is checked after it resolves
	} {
		_, err := tc.client.Get(tc.url)
		var d *DeniedError
		require.ErrorAs(t, err, &d, tc.url)
		require.Equal(t, ClassSSRF, ClassifyError(err))
		require.Contains(t, err.Error(), "loopback")
	}
	require.Zero(t, hits.Load(), "no refused request may arrive")

	resp, err := allowOne.Get(srv.URL)
	require.NoError(t, err, "the allow-listed address is reachable")
	resp.Body.Close()
	require.EqualValues(t, 1, hits.Load())
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var targetHit bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { targetHit = true }))
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirector.Close()

	client := NewHTTPClient(EgressConfig{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, redirector.URL, nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.False(t, targetHit)
}
