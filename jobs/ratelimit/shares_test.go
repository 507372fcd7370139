package ratelimit_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/ratelimit"
)

// Two replicas hammering one budget hand out no more than it holds, and
// once their grants are given back the rest of it is still there.
func TestSharesNeverExceedTheBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	first := newLimiter(t)
	second := newLimiter(t)
	second.Namespace = first.Namespace
	clock := newClock()
	replicas := []*ratelimit.Shares{
		{Limiter: first, Now: clock.Now},
		{Limiter: second, Now: clock.Now},
	}

	// Each replica takes a token first, so both hold a grant while they
	// race: which of them the scheduler runs first is not the test's
	// business (a replica that ran alone could take the whole budget in
	// turn, a tenth at a time, and the other then got none).
	var allowed [2]atomic.Int64
	for i, shares := range replicas {
		ok, _, err := shares.Allow(ctx, "k", 200, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
		allowed[i].Add(1)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, shares := range replicas {
		for range 8 {
			wg.Go(func() {
				<-start
				for range 60 {
					ok, _, err := shares.Allow(ctx, "k", 200, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						allowed[i].Add(1)
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	total := allowed[0].Load() + allowed[1].Load()
	require.LessOrEqual(t, total, int64(200))

	clock.Add(time.Second)
	for _, shares := range replicas {
		require.NoError(t, shares.Sweep(ctx))
	}
	left := 0
	for range 200 {
		ok, _, err := first.Allow(ctx, "k", 200, time.Hour)
		require.NoError(t, err)
		if ok {
			left++
		}
	}
	require.EqualValues(t, 200, total+int64(left), "nothing lost to the grants")
}

// A key asked one request at a time behaves as Limiter.Allow.
func TestSharesQuietKeyIsExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shares := &ratelimit.Shares{Limiter: newLimiter(t)}
	for i := range 3 {
		ok, _, err := shares.Allow(ctx, "k", 3, time.Hour)
		require.NoError(t, err)
		require.True(t, ok, "request %d", i)
	}
	ok, wait, err := shares.Allow(ctx, "k", 3, time.Hour)
	require.NoError(t, err)
	require.False(t, ok, "the budget is spent")
	require.Positive(t, wait)
}

// A busy key asks Redis once or twice a period, not once a request.
func TestSharesBatchRedisCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := newLimiter(t)
	calls := &countCalls{}
	l.Redis.AddHook(calls)
	clock := newClock()
	shares := &ratelimit.Shares{Limiter: l, Now: clock.Now}

	for range 100 {
		ok, _, err := shares.Allow(ctx, "k", 100_000, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}
	clock.Add(100 * time.Millisecond)
	calls.n.Store(0)
	for range 100 {
		ok, _, err := shares.Allow(ctx, "k", 100_000, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.LessOrEqual(t, calls.n.Load(), int64(5), "Redis calls for 100 requests")
}

// What a burst's last grant did not hand out goes back to the budget once
// its period is over, for the other replicas to take.
func TestSharesGiveBackLeftovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	first := &ratelimit.Shares{Limiter: newLimiter(t), Now: clock.Now}
	second := &ratelimit.Shares{Limiter: newLimiter(t), Now: clock.Now}
	second.Limiter.Namespace = first.Limiter.Namespace

	for i := range 60 {
		ok, _, err := first.Allow(ctx, "k", 100, time.Hour)
		require.NoError(t, err)
		require.True(t, ok, "request %d of the burst", i)
	}
	clock.Add(time.Second)
	require.NoError(t, first.Sweep(ctx))

	taken := 0
	for range 100 {
		ok, wait, err := second.Allow(ctx, "k", 100, time.Hour)
		require.NoError(t, err)
		if !ok {
			require.Positive(t, wait)
			break
		}
		taken++
	}
	require.Equal(t, 40, taken, "all the budget the burst did not use")
}

// Keys without requests for a minute are forgotten, their tokens given
// back; a forgotten key starts afresh.
func TestSharesForgetIdleKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newClock()
	shares := &ratelimit.Shares{Limiter: newLimiter(t), Now: clock.Now}
	// A budget whose tokens take ten hours each to come back: the two
	// minutes the local clock skips (Redis's does not) decay none of them.
	for range 10 {
		ok, _, err := shares.Allow(ctx, "k", 100, 1000*time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, 1, shares.Keys())
	clock.Add(2 * time.Minute)
	require.NoError(t, shares.Sweep(ctx))
	require.Zero(t, shares.Keys())

	taken := 0
	for range 100 {
		ok, _, err := shares.Allow(ctx, "k", 100, 1000*time.Hour)
		require.NoError(t, err)
		if !ok {
			break
		}
		taken++
	}
	require.Equal(t, 90, taken, "the forgotten key's tokens were given back")
}

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countCalls counts the commands sent to Redis.
type countCalls struct{ n atomic.Int64 }

func (*countCalls) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *countCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *countCalls) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// Tokens held longer than their interval have decayed in Redis already:
// only those still counted are given back.
func TestUndecayedTokens(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		n     int
		held  time.Duration
		limit int
		want  int
	}{
		{n: 5, held: 0, limit: 60, want: 5},                      // given back at once
		{n: 5, held: 999 * time.Millisecond, limit: 60, want: 5}, // under one interval (1 s)
		{n: 5, held: time.Second, limit: 60, want: 4},
		{n: 5, held: 3500 * time.Millisecond, limit: 60, want: 2},
		{n: 5, held: time.Hour, limit: 60, want: 0}, // all decayed
	} {
		require.Equal(t, c.want, ratelimit.Undecayed(c.n, c.held, time.Minute, c.limit), "%+v", c)
	}
}

// While one request of a panel waits on a Redis that does not answer,
// another of the same panel gives up when its context ends (failing open,
// as on a Redis error) instead of queueing behind it, and the sweep skips
// the busy key instead of waiting for it.
func TestSharesWaitersFollowTheirContext(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c // read nothing, answer nothing
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: l.Addr().String(), MaxRetries: -1, ReadTimeout: -1,
		ContextTimeoutEnabled: true, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { _ = rdb.Close(); _ = l.Close() })
	shares := &ratelimit.Shares{Limiter: &ratelimit.Limiter{Redis: rdb, Namespace: "hang"}, RedisTimeout: time.Hour}

	firstDone := make(chan error, 1)
	go func() {
		_, _, err := shares.Allow(context.Background(), "k", 100, time.Minute)
		firstDone <- err
	}()
	conn := <-accepted // the first request holds the key and waits on Redis

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	ok, _, err := shares.Allow(gone, "k", 100, time.Minute)
	require.True(t, ok, "fails open")
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, shares.Sweep(context.Background()), "the sweep skips the busy key")
	require.Empty(t, firstDone, "the first request should still be waiting on Redis")
	_ = conn.Close()
	require.Error(t, <-firstDone, "the first request fails open once Redis hangs up")
}
