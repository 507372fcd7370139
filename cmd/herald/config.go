package main

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/models"
)

// config is every setting Herald reads, all from the environment and all
// here. Each field names its variable; defaults holds the defaults, and
// the README's table lists both (TestREADMEListsEveryVariable keeps the
// three in step).
type config struct {
	// HERALD_ENV: "development" or "production". Production
	// refuses to start without HERALD_SECRET_KEY, and with /metrics open:
	// it wants HERALD_METRICS_TOKEN or a loopback HERALD_METRICS_LISTEN.
	Env string
	// HERALD_DATABASE_URL: PostgreSQL.
	DatabaseURL string
	// HERALD_DB_MAX_CONNS: connections per process.
	DBMaxConns int
	// HERALD_REDIS_URL: Redis for the task queue and rate limits.
	RedisURL string
	// HERALD_NAMESPACE: prefix of every Redis key and queue, so deployments
	// can share a Redis.
	Namespace string
	// HERALD_LISTEN: address of the HTTP server (by default only this
	// machine's loopback; use 0.0.0.0:8080 in a container).
	Listen string
	// HERALD_PUBLIC_URL: the address people reach the UI at, used in links in
	// e-mails (unset: http:// + HERALD_LISTEN). When it is https://, the UI's
	// cookies are marked Secure (a TLS proxy serves Herald).
	PublicURL string
	// HERALD_SECRET_KEY: 32 bytes (base64 or hex) that encrypt secrets at
	// rest. In development a key is created in HERALD_DEV_KEY_FILE
	// when none is set.
	SecretKey []byte
	// HERALD_EGRESS_ALLOW: comma-separated CIDRs outbound requests may reach
	// although the SSRF guard refuses them (loopback, private, ...).
	EgressAllow []netip.Prefix
	// HERALD_HTTP_TIMEOUT: bound on one outbound request.
	HTTPTimeout time.Duration
	// HERALD_RETENTION: how long delivered deliveries, attempts and processed events are kept.
	// Failed and held deliveries are kept until dealt with.
	Retention time.Duration
	// HERALD_WORKER_CONCURRENCY: tasks a worker runs at once.
	WorkerConcurrency int
	// HERALD_PANEL_CONCURRENCY: the most of a worker's task slots one
	// panel's deliveries may hold at once (unset: half of
	// HERALD_WORKER_CONCURRENCY). With n panels busy each may hold 1/(n+1)
	// of the slots (never more than this), so panels whose endpoints hang
	// until the timeout always leave slots to the others. Setting it to
	// HERALD_WORKER_CONCURRENCY turns the sharing off (one panel per deployment).
	PanelConcurrency int
	// HERALD_MAX_LIVE_JOURNEYS: the most journeys one panel may have live
	// at once; publishing another is refused (409) until one is paused or
	// stopped. Each live journey costs the timer sweeps every panel shares.
	MaxLiveJourneys int
	// HERALD_ADMIN_RATE_LIMIT: admin API requests per minute per panel.
	AdminRateLimit int
	// HERALD_INGEST_RATE_LIMIT: ingest API requests per minute per panel,
	// unless the panel sets its own.
	IngestRateLimit int
	// HERALD_UI_RATE_LIMIT: UI requests per minute per signed-in session,
	// or per client address before sign-in.
	UIRateLimit int
	// HERALD_AUTH_RATE_LIMIT: token lookups per minute per client address
	// on the admin and ingest APIs (tokens not seen in the last seconds).
	AuthRateLimit int
	// HERALD_TRUSTED_PROXIES: comma-separated CIDRs of the proxies in front
	// of Herald, whose X-Forwarded-For names the client for the per-address
	// limits; without them the client is the socket's peer.
	TrustedProxies []netip.Prefix
	// HERALD_SMTP_URL: where alert e-mail goes: smtp://user:pass@host:port
	// (STARTTLS when offered; ?starttls=required insists, ?starttls=none
	// never tries) or smtps://… (implicit TLS). Unset: alerts are written
	// and kept until it is set.
	SMTPURL string
	// HERALD_ALERT_FROM: the From of alert e-mail.
	AlertFrom string
	// HERALD_METRICS_TOKEN: when set, GET /metrics wants it as a Bearer
	// token, on either listener; unset, /metrics is open (aggregates only:
	// no panel's data), which production allows only on a loopback
	// HERALD_METRICS_LISTEN.
	MetricsToken string
	// HERALD_METRICS_LISTEN: where every process serves /metrics; when set,
	// serve and all no longer serve it on HERALD_LISTEN. Unset, serve and
	// all serve it on HERALD_LISTEN, and worker and scheduler (which have no
	// HTTP server) serve none.
	MetricsListen string
	// HERALD_PPROF_LISTEN: when set (e.g. 127.0.0.1:6060), serves Go's
	// profiler there; loopback only, it exposes internals.
	PprofListen string
	// HERALD_LOG_LEVEL: debug, info, warn or error.
	LogLevel slog.Level
	// HERALD_LOG_FORMAT: json or text.
	LogFormat string

	// devKeyNote says where a development key came from, to log it once.
	devKeyNote string
}

// configError names the variable at fault; main prints it as one line.
type configError struct {
	name string
	msg  string
}

func (e *configError) Error() string { return e.name + ": " + e.msg }

// defaults is the one place a variable's default is written. A variable
// not named here is off when unset; HERALD_PUBLIC_URL and
// HERALD_PANEL_CONCURRENCY default to values derived from others.
var defaults = map[string]string{
	"HERALD_ENV":                "development",
	"HERALD_DATABASE_URL":       "postgres://postgres@127.0.0.1:5432/herald?sslmode=disable",
	"HERALD_DB_MAX_CONNS":       "20",
	"HERALD_REDIS_URL":          "redis://127.0.0.1:6379/0",
	"HERALD_NAMESPACE":          "herald",
	"HERALD_LISTEN":             "127.0.0.1:8080",
	"HERALD_DEV_KEY_FILE":       ".herald/dev.key",
	"HERALD_HTTP_TIMEOUT":       "30s",
	"HERALD_WORKER_CONCURRENCY": "50",
	"HERALD_MAX_LIVE_JOURNEYS":  "1000",
	"HERALD_ADMIN_RATE_LIMIT":   "600",
	"HERALD_INGEST_RATE_LIMIT":  "1000",
	"HERALD_UI_RATE_LIMIT":      "600",
	"HERALD_AUTH_RATE_LIMIT":    "600",
	"HERALD_ALERT_FROM":         "herald@localhost",
	"HERALD_RETENTION":          "168h",
	"HERALD_LOG_LEVEL":          "info",
	"HERALD_LOG_FORMAT":         "json",
}

// loadConfig reads and validates the environment. needKey is false for
// the one-shot commands (migrate, token create): they touch no secrets
// and serve nothing.
func loadConfig(getenv func(string) string, needKey bool) (*config, error) {
	get := func(name string) string { return cmp.Or(strings.TrimSpace(getenv(name)), defaults[name]) }
	c := &config{
		Env:         get("HERALD_ENV"),
		DatabaseURL: get("HERALD_DATABASE_URL"),
		RedisURL:    get("HERALD_REDIS_URL"),
		Namespace:   get("HERALD_NAMESPACE"),
		Listen:      get("HERALD_LISTEN"),
		LogFormat:   get("HERALD_LOG_FORMAT"),
	}
	if c.Env != "development" && c.Env != "production" {
		return nil, &configError{"HERALD_ENV", fmt.Sprintf("%q is neither development nor production", c.Env)}
	}
	if err := checkURL(c.DatabaseURL, "postgres", "postgresql"); err != nil {
		return nil, &configError{"HERALD_DATABASE_URL", err.Error()}
	}
	if err := checkURL(c.RedisURL, "redis", "rediss", "redis-sentinel"); err != nil {
		return nil, &configError{"HERALD_REDIS_URL", err.Error()}
	}
	if _, err := parseRedisURL(c.RedisURL); err != nil {
		return nil, &configError{"HERALD_REDIS_URL", err.Error()}
	}
	if !validNamespace(c.Namespace) {
		return nil, &configError{"HERALD_NAMESPACE", "use letters, digits, '_' or '-'"}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return nil, &configError{"HERALD_LISTEN", fmt.Sprintf("%q is not host:port", c.Listen)}
	}
	c.PublicURL = strings.TrimRight(cmp.Or(get("HERALD_PUBLIC_URL"), "http://"+c.Listen), "/")
	if err := checkURL(c.PublicURL, "http", "https"); err != nil {
		return nil, &configError{"HERALD_PUBLIC_URL", err.Error()}
	}
	var err error
	if c.DBMaxConns, err = positiveInt(get("HERALD_DB_MAX_CONNS")); err != nil {
		return nil, &configError{"HERALD_DB_MAX_CONNS", err.Error()}
	}
	if c.WorkerConcurrency, err = positiveInt(get("HERALD_WORKER_CONCURRENCY")); err != nil {
		return nil, &configError{"HERALD_WORKER_CONCURRENCY", err.Error()}
	}
	if c.PanelConcurrency, err = positiveInt(cmp.Or(get("HERALD_PANEL_CONCURRENCY"), strconv.Itoa(max(1, c.WorkerConcurrency/2)))); err != nil {
		return nil, &configError{"HERALD_PANEL_CONCURRENCY", err.Error()}
	}
	if c.PanelConcurrency > c.WorkerConcurrency {
		return nil, &configError{"HERALD_PANEL_CONCURRENCY", fmt.Sprintf("%d is more than HERALD_WORKER_CONCURRENCY (%d)", c.PanelConcurrency, c.WorkerConcurrency)}
	}
	if c.MaxLiveJourneys, err = positiveInt(get("HERALD_MAX_LIVE_JOURNEYS")); err != nil {
		return nil, &configError{"HERALD_MAX_LIVE_JOURNEYS", err.Error()}
	}
	if c.AdminRateLimit, err = positiveInt(get("HERALD_ADMIN_RATE_LIMIT")); err != nil {
		return nil, &configError{"HERALD_ADMIN_RATE_LIMIT", err.Error()}
	}
	if c.IngestRateLimit, err = positiveInt(get("HERALD_INGEST_RATE_LIMIT")); err != nil {
		return nil, &configError{"HERALD_INGEST_RATE_LIMIT", err.Error()}
	}
	if c.UIRateLimit, err = positiveInt(get("HERALD_UI_RATE_LIMIT")); err != nil {
		return nil, &configError{"HERALD_UI_RATE_LIMIT", err.Error()}
	}
	if c.AuthRateLimit, err = positiveInt(get("HERALD_AUTH_RATE_LIMIT")); err != nil {
		return nil, &configError{"HERALD_AUTH_RATE_LIMIT", err.Error()}
	}
	if c.HTTPTimeout, err = time.ParseDuration(get("HERALD_HTTP_TIMEOUT")); err != nil || c.HTTPTimeout <= 0 {
		return nil, &configError{"HERALD_HTTP_TIMEOUT", "want a positive duration such as 30s"}
	}
	c.SMTPURL, c.AlertFrom = get("HERALD_SMTP_URL"), get("HERALD_ALERT_FROM")
	if c.SMTPURL != "" {
		if _, err := mail.ParseSMTPURL(c.SMTPURL); err != nil {
			return nil, &configError{"HERALD_SMTP_URL", err.Error()}
		}
	}
	if _, err := netmail.ParseAddress(c.AlertFrom); err != nil {
		return nil, &configError{"HERALD_ALERT_FROM", "want an e-mail address, optionally with a name: Herald <alerts@example.com>"}
	}
	c.MetricsToken = get("HERALD_METRICS_TOKEN")
	if c.MetricsListen = get("HERALD_METRICS_LISTEN"); c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			return nil, &configError{"HERALD_METRICS_LISTEN", fmt.Sprintf("%q is not host:port", c.MetricsListen)}
		}
	}
	if c.PprofListen = get("HERALD_PPROF_LISTEN"); c.PprofListen != "" {
		if !loopbackHostPort(c.PprofListen) {
			return nil, &configError{"HERALD_PPROF_LISTEN", "want a loopback host:port such as 127.0.0.1:6060"}
		}
	}
	if c.Retention, err = time.ParseDuration(get("HERALD_RETENTION")); err != nil || c.Retention < time.Hour {
		return nil, &configError{"HERALD_RETENTION", "want a duration of at least 1h, such as 168h"}
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("HERALD_LOG_LEVEL"))); err != nil {
		return nil, &configError{"HERALD_LOG_LEVEL", "want debug, info, warn or error"}
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return nil, &configError{"HERALD_LOG_FORMAT", "want json or text"}
	}
	if c.EgressAllow, err = parseCIDRs(get("HERALD_EGRESS_ALLOW")); err != nil {
		return nil, &configError{"HERALD_EGRESS_ALLOW", err.Error()}
	}
	if c.TrustedProxies, err = parseCIDRs(get("HERALD_TRUSTED_PROXIES")); err != nil {
		return nil, &configError{"HERALD_TRUSTED_PROXIES", err.Error()}
	}
	if needKey {
		if err := c.loadKey(getenv); err != nil {
			return nil, err
		}
		if err := c.checkMetricsGuarded(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkMetricsGuarded refuses production with /metrics open to whoever
// reaches Herald: it wants a token, or a listener only this machine
// reaches. Development keeps the open default, for a local Prometheus.
func (c *config) checkMetricsGuarded() error {
	if c.Env != "production" || c.MetricsToken != "" || c.MetricsListen != "" && loopbackHostPort(c.MetricsListen) {
		return nil
	}
	return &configError{"HERALD_METRICS_TOKEN", "required in production unless HERALD_METRICS_LISTEN is a loopback host:port such as 127.0.0.1:9090 (/metrics must not be open)"}
}

// loopbackHostPort reports whether s is host:port with a loopback IP.
func loopbackHostPort(s string) bool {
	host, _, err := net.SplitHostPort(s)
	ip, perr := netip.ParseAddr(host)
	return err == nil && perr == nil && ip.IsLoopback()
}

func (c *config) loadKey(getenv func(string) string) error {
	if raw := strings.TrimSpace(getenv("HERALD_SECRET_KEY")); raw != "" {
		key, err := models.ParseSecretKey(raw)
		if err != nil {
			return &configError{"HERALD_SECRET_KEY", err.Error()}
		}
		c.SecretKey = key
		return nil
	}
	if c.Env == "production" {
		return &configError{"HERALD_SECRET_KEY", "required in production (32 bytes as base64, e.g. `openssl rand -base64 32`)"}
	}
	path := cmp.Or(strings.TrimSpace(getenv("HERALD_DEV_KEY_FILE")), defaults["HERALD_DEV_KEY_FILE"])
	key, created, err := devKey(path)
	if err != nil {
		return &configError{"HERALD_DEV_KEY_FILE", err.Error()}
	}
	c.SecretKey = key
	c.devKeyNote = "using the development secret key in " + path
	if created {
		c.devKeyNote = "created a development secret key in " + path + "; set HERALD_SECRET_KEY in production"
	}
	return nil
}

// devKey reads the development key file, creating it when missing.
func devKey(path string) (key []byte, created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		key, err := models.ParseSecretKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return key, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, err
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, false, err
	}
	return key, true, nil
}

func checkURL(raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("want a %s:// URL with a host", schemes[0])
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive whole number", s)
	}
	return n, nil
}

func parseCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") { // a bare address means just that address
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR or IP address", part)
			}
			part = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or IP address", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func validNamespace(s string) bool {
	for _, r := range s {
		allowed := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
		if !allowed {
			return false
		}
	}
	return s != "" && len(s) <= 64
}
