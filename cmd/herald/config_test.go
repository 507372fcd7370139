package main

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models/modeltest"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Parallel()
	keyFile := filepath.Join(t.TempDir(), "dev.key")
	c, err := loadConfig(env(map[string]string{"HERALD_DEV_KEY_FILE": keyFile}), true)
	require.NoError(t, err)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/herald?sslmode=disable", c.DatabaseURL)
	require.Equal(t, "redis://127.0.0.1:6379/0", c.RedisURL)
	require.Equal(t, "127.0.0.1:8080", c.Listen)
	require.Empty(t, c.EgressAllow)
	require.Equal(t, 50, c.WorkerConcurrency)
	require.Equal(t, 25, c.PanelConcurrency, "a panel may hold half the worker")
	require.Len(t, c.SecretKey, 32)
	require.Contains(t, c.devKeyNote, "created")

	again, err := loadConfig(env(map[string]string{"HERALD_DEV_KEY_FILE": keyFile}), true)
	require.NoError(t, err)
	require.Equal(t, c.SecretKey, again.SecretKey, "the development key is kept between runs")
}

func TestLoadConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	tests := map[string]map[string]string{
		"HERALD_ENV":                {"HERALD_ENV": "staging"},
		"HERALD_DATABASE_URL":       {"HERALD_DATABASE_URL": "mysql://x/y"},
		"HERALD_REDIS_URL":          {"HERALD_REDIS_URL": "localhost:6379"},
		"HERALD_LISTEN":             {"HERALD_LISTEN": "8080"},
		"HERALD_SECRET_KEY":         {"HERALD_SECRET_KEY": "too-short"},
		"HERALD_EGRESS_ALLOW":       {"HERALD_EGRESS_ALLOW": "10.0.0.0/8,not-a-cidr"},
		"HERALD_HTTP_TIMEOUT":       {"HERALD_HTTP_TIMEOUT": "soon"},
		"HERALD_WORKER_CONCURRENCY": {"HERALD_WORKER_CONCURRENCY": "-3"},
		"HERALD_PANEL_CONCURRENCY":  {"HERALD_WORKER_CONCURRENCY": "4", "HERALD_PANEL_CONCURRENCY": "5"},
		"HERALD_LOG_LEVEL":          {"HERALD_LOG_LEVEL": "loud"},
		"HERALD_NAMESPACE":          {"HERALD_NAMESPACE": "a b"},
	}
	for name, vars := range tests {
		_, err := loadConfig(env(vars), true)
		var ce *configError
		require.ErrorAs(t, err, &ce, name)
		require.Equal(t, name, ce.name)
		require.NotContains(t, ce.Error(), "\n", "one line")
	}
	_, err := loadConfig(env(map[string]string{"HERALD_ENV": "production"}), true)
	var ce *configError
	require.ErrorAs(t, err, &ce, "production refuses to start without a key")
	require.Equal(t, "HERALD_SECRET_KEY", ce.name)
}

func TestRedisURLs(t *testing.T) {
	t.Parallel()
	s, err := parseRedisURL("redis-sentinel://:pw@sentinel-a:26379,sentinel-b:26379/2?master=herald&sentinel_password=sp")
	require.NoError(t, err)
	require.Equal(t, "herald", s.failover.MasterName)
	require.Equal(t, []string{"sentinel-a:26379", "sentinel-b:26379"}, s.failover.SentinelAddrs)
	require.Equal(t, "pw", s.failover.Password)
	require.Equal(t, "sp", s.failover.SentinelPassword)
	require.Equal(t, 2, s.failover.DB)
	s, err = parseRedisURL("rediss://u:p@cache.example:6380/1")
	require.NoError(t, err)
	require.Equal(t, "cache.example:6380", s.plain.Addr)
	require.NotNil(t, s.plain.TLSConfig)
	for _, bad := range []string{"redis-sentinel://sentinel-a:26379/0", "redis-sentinel://host/0?master=m", "redis-sentinel://h:1/x?master=m"} {
		_, err := parseRedisURL(bad)
		require.Error(t, err, bad)
		_, err = loadConfig(env(map[string]string{"HERALD_REDIS_URL": bad}), false)
		var ce *configError
		require.ErrorAs(t, err, &ce, bad)
	}
}

func TestParseEgressAllow(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(env(map[string]string{"HERALD_EGRESS_ALLOW": "127.0.0.1, 10.1.0.0/16,::1"}), false)
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("::1/128"),
	}, c.EgressAllow)
}

func TestTokenCreatePrintsTokenAlone(t *testing.T) {
	t.Parallel()
	_, dbURL := modeltest.DB(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"token", "create", "--panel", "acme_prod"},
		env(map[string]string{"HERALD_DATABASE_URL": dbURL}), &out, &errOut)
	require.NoError(t, err, errOut.String())
	require.Regexp(t, `^hrld_[A-Za-z0-9]{40}\n$`, out.String())

	err = run(context.Background(), []string{"token", "create"}, env(nil), &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	err = run(context.Background(), []string{"frobnicate"}, env(nil), &out, &errOut)
	require.ErrorIs(t, err, errUsage)
}

func TestHelp(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--help"}, env(nil), &out, &errOut))
	for _, cmd := range []string{"all", "serve", "worker", "scheduler", "migrate", "token create", "user create"} {
		require.Contains(t, out.String(), cmd)
	}
	err := run(context.Background(), []string{"serve", "--help"}, env(nil), &out, &errOut)
	require.Error(t, err)
	require.Contains(t, errOut.String(), "Usage: herald serve")
}

func TestTrustedProxiesAndUIRateLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		vars               map[string]string
		proxies            []netip.Prefix
		uiLimit, authLimit int
		errName            string
	}{
		{name: "defaults: no proxy believed", vars: nil, uiLimit: 600, authLimit: 600},
		{name: "set", vars: map[string]string{"HERALD_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 ,fd00::/8", "HERALD_UI_RATE_LIMIT": "120",
			"HERALD_AUTH_RATE_LIMIT": "60"},
			proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("fd00::/8")},
			uiLimit: 120, authLimit: 60},
		{name: "no zero auth limit", vars: map[string]string{"HERALD_AUTH_RATE_LIMIT": "0"}, errName: "HERALD_AUTH_RATE_LIMIT"},
		{name: "a host name is no CIDR", vars: map[string]string{"HERALD_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, errName: "HERALD_TRUSTED_PROXIES"},
		{name: "no zero UI limit", vars: map[string]string{"HERALD_UI_RATE_LIMIT": "0"}, errName: "HERALD_UI_RATE_LIMIT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(env(tc.vars), false)
			if tc.errName != "" {
				var ce *configError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.errName, ce.name)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.proxies, c.TrustedProxies)
			require.Equal(t, tc.uiLimit, c.UIRateLimit)
			require.Equal(t, tc.authLimit, c.AuthRateLimit)
		})
	}
}

// Production refuses to start with /metrics open to whoever reaches it.
func TestProductionMetricsNeedTokenOrLoopback(t *testing.T) {
	t.Parallel()
	const key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		needKey bool
		ok      bool
	}{
		{"production, nothing set", map[string]string{}, true, false},
		{"production, listener on every address", map[string]string{"HERALD_METRICS_LISTEN": "0.0.0.0:9090"}, true, false},
		{"production, listener by host name", map[string]string{"HERALD_METRICS_LISTEN": "localhost:9090"}, true, false},
		{"production, loopback listener", map[string]string{"HERALD_METRICS_LISTEN": "127.0.0.1:9090"}, true, true},
		{"production, IPv6 loopback listener", map[string]string{"HERALD_METRICS_LISTEN": "[::1]:9090"}, true, true},
		{"production, token", map[string]string{"HERALD_METRICS_TOKEN": "s3cret"}, true, true},
		{"production, token and a listener on every address", map[string]string{"HERALD_METRICS_TOKEN": "s3cret", "HERALD_METRICS_LISTEN": "0.0.0.0:9090"}, true, true},
		{"production migrate serves nothing", map[string]string{}, false, true},
		{"development keeps the open default", map[string]string{"HERALD_ENV": "development"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{"HERALD_ENV": "production", "HERALD_SECRET_KEY": key,
				"HERALD_DEV_KEY_FILE": filepath.Join(t.TempDir(), "dev.key")}
			for k, v := range tc.vars {
				vars[k] = v
			}
			_, err := loadConfig(env(vars), tc.needKey)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var ce *configError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "HERALD_METRICS_TOKEN", ce.name)
			require.Contains(t, ce.Error(), "HERALD_METRICS_LISTEN", "the message names the other way out")
			require.NotContains(t, ce.Error(), "\n", "one line")
		})
	}
}

func TestGCPercentDefaultsOnlyWhenGOGCIsUnset(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		gogc    string
		percent int
		ok      bool
	}{
		{gogc: "", percent: defaultGCPercent, ok: true},
		{gogc: "100", ok: false},
		{gogc: "off", ok: false},
	} {
		percent, ok := gcPercent(tc.gogc)
		require.Equal(t, tc.ok, ok, "GOGC=%q", tc.gogc)
		require.Equal(t, tc.percent, percent, "GOGC=%q", tc.gogc)
	}
}
