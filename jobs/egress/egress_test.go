package egress

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
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

// The guard runs at dial time, on the resolved address: every form an
// address can take is checked here at the dial-control function, without
// connecting anywhere.
func TestDialControlAddressForms(t *testing.T) {
	t.Parallel()
	prefixes := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	loopback4 := prefixes("127.0.0.0/8")
	tests := []struct {
		name    string
		address string // host:port as the dialer passes it
		allow   []netip.Prefix
		denied  string // a fragment of the reason; "" means allowed
	}{
		// Zones name an interface of this host; prefixes never match them.
		{"zone loopback", "[::1%lo]:8080", nil, "zone"},
		{"zone loopback, ::1 allowed", "[::1%lo]:8080", prefixes("::1/128", "::/0"), "zone"},
		{"zone link-local", "[fe80::1%eth0]:80", nil, "zone"},
		{"zone numeric", "[fe80::1%1]:80", nil, "zone"},
		{"zone on a public address", "[2606:4700::1111%eth0]:443", nil, "zone"},
		// IPv4-mapped: judged as the IPv4 address it reaches.
		{"v4-mapped loopback", "[::ffff:127.0.0.1]:80", nil, "loopback"},
		{"v4-mapped private", "[::ffff:10.0.0.1]:80", nil, "private"},
		{"v4-mapped metadata", "[::ffff:169.254.169.254]:80", nil, "metadata"},
		{"v4-mapped loopback, allowed", "[::ffff:127.0.0.1]:80", loopback4, ""},
		// IPv4-compatible (::/96) and IPv4-translated (::ffff:0:0:0/96).
		{"v4-compatible loopback", "[::127.0.0.1]:80", nil, "IPv4-compatible"},
		{"v4-compatible private", "[::a00:1]:80", nil, "IPv4-compatible"},
		{"v4-compatible, v4 allowed", "[::127.0.0.1]:80", loopback4, "IPv4-compatible"},
		{"v4-translated private", "[::ffff:0:a00:1]:80", nil, "IPv4-translated"},
		{"v4-translated loopback", "[::ffff:0:7f00:1]:80", loopback4, "IPv4-translated"},
		// Translation prefixes embed an IPv4 address that may be private.
		{"NAT64", "[64:ff9b::a00:1]:80", nil, "NAT64"},
		{"NAT64 local-use", "[64:ff9b:1::a00:1]:80", nil, "NAT64"},
		{"6to4", "[2002:a00:1::]:80", nil, "6to4"},
		{"Teredo", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]:80", nil, "Teredo"},
		// Cloud metadata, refused even when the allow-list covers it.
		{"metadata", "169.254.169.254:80", nil, "metadata"},
		{"metadata v6", "[fd00:ec2::254]:80", nil, "metadata"},
		{"metadata Alibaba", "100.100.100.200:80", nil, "metadata"},
		{"metadata ECS", "169.254.170.2:80", nil, "metadata"},
		{"metadata Azure WireServer, a public address", "168.63.129.16:80", nil, "metadata"},
		{"metadata Azure HostGAPlugin", "168.63.129.16:32526", nil, "metadata"},
		{"metadata, link-local allowed", "169.254.169.254:80", prefixes("169.254.0.0/16"), "metadata"},
		{"metadata, CGNAT allowed", "100.100.100.200:80", prefixes("100.64.0.0/10"), "metadata"},
		{"metadata v6, ULA allowed", "[fd00:ec2::254]:80", prefixes("fc00::/7"), "metadata"},
		{"metadata, everything allowed", "169.254.169.254:80", prefixes("0.0.0.0/0"), "metadata"},
		// The usual suspects.
		{"loopback", "127.0.0.1:8080", nil, "loopback"},
		{"loopback v6", "[::1]:443", nil, "loopback"},
		{"loopback v6, v4 allowed", "[::1]:443", loopback4, "loopback"},
		{"unspecified", "0.0.0.0:80", nil, "unspecified"},
		{"unspecified v6", "[::]:80", nil, "unspecified"},
		{"private", "10.0.0.1:80", nil, "private"},
		{"private 172", "172.20.0.1:80", nil, "private"},
		{"unique local", "[fd12::1]:80", nil, "private"},
		{"link-local", "169.254.10.1:80", nil, "link-local"},
		{"link-local v6", "[fe80::1]:80", nil, "link-local"},
		{"CGNAT", "100.64.0.1:80", nil, "carrier-grade"},
		{"multicast", "224.0.0.1:80", nil, "multicast"},
		{"broadcast", "255.255.255.255:80", nil, "special-purpose"},
		{"documentation", "192.0.2.1:80", nil, "special-purpose"},
		{"documentation v6", "[2001:db8::1]:80", nil, "special-purpose"},
		{"site-local v6", "[fec0::1]:80", nil, "global unicast"},
		// The allow-list opens what it covers, and only that.
		{"allowed loopback", "127.0.0.1:8080", loopback4, ""},
		{"allowed loopback, other address", "127.0.0.2:8080", prefixes("127.0.0.1/32"), "loopback"},
		{"allowed loopback v6", "[::1]:8080", prefixes("::1/128"), ""},
		{"allowed link-local", "169.254.1.1:80", prefixes("169.254.0.0/16"), ""},
		{"allowed private", "10.1.2.3:80", prefixes("10.0.0.0/8"), ""},
		// Public addresses pass (only checked here, never dialled).
		{"public v4", "93.184.215.14:443", nil, ""},
		{"public v6", "[2606:4700::1111]:443", nil, ""},
		{"public v4-mapped", "[::ffff:93.184.215.14]:443", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			network := "tcp4"
			if strings.HasPrefix(tt.address, "[") {
				network = "tcp6"
			}
			err := dialControl(tt.allow)(network, tt.address, nil)
			if tt.denied == "" {
				require.NoError(t, err)
				return
			}
			var d *DeniedError
			require.ErrorAs(t, err, &d)
			require.Contains(t, d.Reason, tt.denied)
			require.Equal(t, ClassSSRF, ClassifyError(err))
			// Zones and metadata cannot be allowed: the message must not say they can.
			always := tt.denied == "zone" || tt.denied == "metadata"
			require.Equal(t, always, d.Always)
			require.Equal(t, !always, strings.Contains(err.Error(), "HERALD_EGRESS_ALLOW"))
		})
	}
}

// Regression: http://[::1%25lo]:PORT/ reached a loopback-only service
// although only 127.0.0.0/8 was allowed, because no prefix matches a
// zoned address.
//
//nolint:paralleltest // the hit count after the subtests must see them done, and the deferred Close must not come before them
func TestClientRefusesZonedLoopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("cannot listen on [::1]: %v", err)
	}
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	_ = srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	client := NewHTTPClient(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	for _, tc := range []struct{ url, reason string }{
		{"http://[::1%25lo]:" + port + "/", "zone"},
		{"http://[::1]:" + port + "/", "loopback"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			resp, err := client.Get(tc.url)
			if err == nil {
				_ = resp.Body.Close()
			}
			var d *DeniedError
			require.ErrorAs(t, err, &d)
			require.Contains(t, d.Reason, tc.reason)
			require.Equal(t, ClassSSRF, ClassifyError(err))
		})
	}
	require.Zero(t, hits.Load(), "no refused request may arrive")
}

func TestClientRefusesLoopbackOutsideAllowList(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]

	allowOne := NewHTTPClient(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	allowNone := NewHTTPClient(Config{})
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
	_ = resp.Body.Close()
	require.EqualValues(t, 1, hits.Load())
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var targetHit bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { targetHit = true }))
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirector.Close()

	client := NewHTTPClient(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, redirector.URL, nil)
	resp, err := client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.False(t, targetHit)
}
