package jobs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// EgressConfig configures the one HTTP client every outbound request uses.
type EgressConfig struct {
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
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("refused by the SSRF guard: %s is %s (allow it with HERALD_EGRESS_ALLOW)", e.Addr, e.Reason)
}

// deniedRanges are networks an outbound request must not reach: they belong
// to this host, the private network it sits in, or the cloud provider's
// metadata services.
var deniedRanges = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified (\"this network\") address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("100::/64"), "a discard address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	// Translation prefixes embed an IPv4 address that may be private.
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address"},
}

// CheckAddr decides whether an outbound connection to addr is allowed.
func CheckAddr(addr netip.Addr, allow []netip.Prefix) error {
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, p := range allow {
		if p.Contains(addr) {
			return nil
		}
	}
	for _, r := range deniedRanges {
		if r.prefix.Contains(addr) {
			return &DeniedError{Addr: addr, Reason: r.reason}
		}
	}
	return nil
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

// NewHTTPClient builds the SSRF-safe client: the dial guard, no proxy (a
// proxy would dial on our behalf and bypass the guard), no redirects (a
// redirect could point anywhere), and timeouts on every phase.
func NewHTTPClient(cfg EgressConfig) *http.Client {
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
)

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
