package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models/modeltest"
)

// A refunded request is available again; a refund of an untouched budget
// gives nothing extra.
func TestRateLimiterRefund(t *testing.T) {
	t.Parallel()
	l := newLimiter(t)
	ctx := context.Background()

	require.NoError(t, l.Refund(ctx, "k", 2, time.Hour), "nothing to give back")
	for range 2 {
		ok, _, err := l.Allow(ctx, "k", 2, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, wait, err := l.Allow(ctx, "k", 2, time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "the budget is spent")
	require.Positive(t, wait)

	require.NoError(t, l.Refund(ctx, "k", 2, time.Hour))
	ok, _, err = l.Allow(ctx, "k", 2, time.Hour)
	require.NoError(t, err)
	require.True(t, ok, "the refunded request")
	ok, _, err = l.Allow(ctx, "k", 2, time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "and no more")
}

// Taking and giving back, again and again, costs nothing: a refund that
// brings the budget back to whole leaves no interval behind.
func TestRateLimiterRefundLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	l := newLimiter(t)
	ctx := context.Background()
	for i := range 20 {
		ok, _, err := l.Allow(ctx, "k", 3, time.Hour)
		require.NoError(t, err)
		require.True(t, ok, "round %d", i)
		require.NoError(t, l.Refund(ctx, "k", 3, time.Hour))
	}
	for range 3 {
		ok, _, err := l.Allow(ctx, "k", 3, time.Hour)
		require.NoError(t, err)
		require.True(t, ok, "the whole budget is still there")
	}
}

// newLimiter is a Limiter on the test Redis, in a namespace of its own.
func newLimiter(t *testing.T) *ratelimit.Limiter {
	t.Helper()
	opt, err := redis.ParseURL(modeltest.RedisURL())
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return &ratelimit.Limiter{Redis: rdb, Namespace: modeltest.Namespace(t)}
}
