// Package egress is the one way Herald reaches outside: the HTTP client
// every outbound request uses (webhook deliveries, tests and probes), with
// its dial-time guard against private and metadata addresses (SSRF), and
// the error classes a failed request is recorded under. It knows nothing
// of webhooks; package delivery builds the requests it carries.
package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Config configures the one HTTP client every outbound request uses.
type Config struct {
	// Allow lists networks the guard lets through although they are
	// loopback, private, ... (HERALD_EGRESS_ALLOW). Empty by default.
	Allow []netip.Prefix
	// ConnectTimeout bounds DNS and TCP connect; default 5 s.
	ConnectTimeout time.Duration
	// RequestTimeout bounds a whole request, response body included; default 30 s.
	RequestTimeout time.Duration
}

// DeniedError says the guard refused an address. It is reported as such in
// test results and attempt logs, not as a generic network error.
type DeniedError struct {
	Addr   netip.Addr
	Reason string
	// Always is set when HERALD_EGRESS_ALLOW cannot open the address (a
	// zone, a cloud metadata service), so the message does not suggest it.
	Always bool
}

func (e *DeniedError) Error() string {
	if e.Always {
		return fmt.Sprintf("refused by the SSRF guard: %s is %s", e.Addr, e.Reason)
	}
	return fmt.Sprintf("refused by the SSRF guard: %s is %s (allow it with HERALD_EGRESS_ALLOW)", e.Addr, e.Reason)
}

// guardian holds the denylist: code.dny.dev/ssrf follows the IANA
// special-purpose registries, and refuses every IPv6 address outside the
// global unicast range 2000::/3 (loopback, unique local, link-local,
// IPv4-compatible ::/96, IPv4-translated ::ffff:0:0:0/96, NAT64, ...).
// Ports and networks are not its business here: a webhook may use any port,
// and the transport only dials TCP.
var guardian = ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork())

// metadataAddrs are cloud metadata and credential services. The denylist
// refuses most of them already (link-local, carrier-grade NAT, unique
// local; Azure's WireServer sits in public space and only this list
// refuses it), but
// they are checked before the allow-list so that allowing such a network
// (HERALD_EGRESS_ALLOW=100.64.0.0/10 where the receivers sit behind
// carrier-grade NAT) never opens the host's cloud credentials.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task credentials
	netip.MustParseAddr("169.254.170.23"),  // AWS EKS Pod Identity
	netip.MustParseAddr("fd00:ec2::23"),    // AWS EKS Pod Identity over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("168.63.129.16"),   // Azure WireServer and HostGAPlugin (a public address)
}

// CheckAddr decides whether an outbound connection to addr is allowed, in
// this order:
//  1. an address with a zone is refused: it names a network interface of
//     this host, and prefixes never match it (netip.Prefix.Contains is
//     false), so it would slip past both lists;
//  2. a cloud metadata address is refused, whatever the allow-list says;
//  3. the allow-list (HERALD_EGRESS_ALLOW) lets through what it covers: it
//     is checked before the denylist because its purpose is to open denied
//     ranges, such as 127.0.0.0/8 for local receivers in tests and make run;
//  4. the denylist (code.dny.dev/ssrf) refuses special-purpose addresses.
//
// An IPv4-mapped address (::ffff:10.0.0.1) is judged as the IPv4 address it
// reaches, so an IPv4 allow-list entry covers it too.
func CheckAddr(addr netip.Addr, allow []netip.Prefix) error {
	if addr.Zone() != "" {
		return &DeniedError{Addr: addr, Reason: "an IPv6 address with a zone (it names a local network interface)", Always: true}
	}
	addr = addr.Unmap()
	if slices.Contains(metadataAddrs, addr) {
		return &DeniedError{Addr: addr, Reason: "a cloud metadata address", Always: true}
	}
	for _, p := range allow {
		if p.Contains(addr) {
			return nil
		}
	}
	if guardian.SafeAddr(addr) != nil {
		return &DeniedError{Addr: addr, Reason: denyReason(addr)}
	}
	return nil
}

// namedRanges name the IPv6 forms that carry an IPv4 address (which may be
// private), for denyReason only: the decision is the denylist's.
var namedRanges = []struct {
	prefix netip.Prefix
	name   string
}{
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible address"},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "an IPv4-translated address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
}

// denyReason says in words why the denylist refused addr, for the people
// reading test results and attempt logs.
func denyReason(addr netip.Addr) string {
	switch {
	case addr.IsUnspecified():
		return "an unspecified address"
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsPrivate():
		return "a private address"
	case addr.IsLinkLocalUnicast():
		return "a link-local address"
	case addr.IsMulticast():
		return "a multicast address"
	}
	for _, r := range namedRanges {
		if r.prefix.Contains(addr) {
			return r.name
		}
	}
	if addr.Is6() && !ssrf.IPv6GlobalUnicast.Contains(addr) {
		return "outside the IPv6 global unicast range " + ssrf.IPv6GlobalUnicast.String()
	}
	for _, p := range slices.Concat(ssrf.IPv4DeniedPrefixes, ssrf.IPv6DeniedPrefixes) {
		if p.Contains(addr) {
			return "a special-purpose address (" + p.String() + ")"
		}
	}
	return "a special-purpose address"
}

// dialControl runs after DNS resolution, on the very address being dialled,
// so a name that resolves (or re-resolves) to a private address is caught.
func dialControl(allow []netip.Prefix) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("egress: unexpected dial address %q: %w", address, err)
		}
		return CheckAddr(ap.Addr(), allow)
	}
}

// MaxResponseHeaderBytes caps a receiver's response headers. net/http
// would otherwise read up to 10 MB of them, buffered in memory, for each
// of thousands of concurrent requests; an honest webhook answer has a few
// hundred bytes of headers, and 64 KiB leaves room for large cookies.
const MaxResponseHeaderBytes = 64 << 10

// NewHTTPClient builds the SSRF-safe client: the dial guard, no proxy (a
// proxy would dial on our behalf and bypass the guard), no redirects (a
// redirect could point anywhere), timeouts on every phase, and a cap on
// response headers.
func NewHTTPClient(cfg Config) *http.Client {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second, Control: dialControl(cfg.Allow)}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          2048,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
		// Also sent to HTTP/2 servers as SETTINGS_MAX_HEADER_LIST_SIZE.
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   cfg.RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Error classes recorded with failed requests.
const (
	ClassDNS     = "dns"
	ClassConnect = "connect"
	ClassTLS     = "tls"
	ClassTimeout = "timeout"
	ClassSSRF    = "ssrf"
	ClassNetwork = "network"
	ClassHTTP    = "http"
	// ClassHeaders: the response headers exceeded MaxResponseHeaderBytes.
	ClassHeaders = "headers"
)

// headerLimitErrors are the messages net/http gives when response headers
// exceed MaxResponseHeaderBytes, over HTTP/1 and HTTP/2; it exports no error
// value to match with errors.Is.
var headerLimitErrors = []string{
	"server response headers exceeded",
	"response header list larger than advertised limit",
}

// ClassifyError names the kind of a request error for logs and people.
func ClassifyError(err error) string {
	var denied *DeniedError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &denied):
		return ClassSSRF
	case slices.ContainsFunc(headerLimitErrors, func(m string) bool { return strings.Contains(err.Error(), m) }):
		return ClassHeaders
	case errors.As(err, &dnsErr):
		return ClassDNS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &recErr), errors.As(err, &alert), strings.Contains(err.Error(), "tls:"):
		return ClassTLS
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ClassConnect
	default:
		return ClassNetwork
	}
}
