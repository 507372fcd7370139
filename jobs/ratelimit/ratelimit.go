// Package ratelimit keeps request budgets shared by every replica in
// Redis (GCRA): a webhook's requests per second (package delivery) and
// the sign-in and API limits of the HTTP server (app). It is its own
// package because both sides of Herald use it and it needs nothing of
// either.
package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limiter enforces limits shared by every replica, kept in Redis. The
// algorithm is go-redis/redis_rate's GCRA (a Lua script on Redis's clock,
// so every replica agrees on time, allowing a burst of the whole period's
// allowance); this type only names the budgets.
type Limiter struct {
	Redis     redis.UniversalClient
	Namespace string // key prefix, so tests and deployments can share a Redis
}

// Allow takes one request from the budget named key: limit requests per
// period. When refused it says how long to wait. A Redis failure is returned
// to the caller, which decides whether to fail open.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, per time.Duration) (bool, time.Duration, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	res, err := redis_rate.NewLimiter(l.Redis).Allow(ctx, l.key(key, limit, per), budget(limit, per))
	if err != nil {
		return true, 0, fmt.Errorf("ratelimit: %w", err)
	}
	return res.Allowed > 0, max(res.RetryAfter, 0), nil
}

// Refund gives back one request Allow took from the budget named key, for
// limits that count only some outcomes (failed sign-ins): taking first and
// giving back after keeps concurrent requests from all passing a check.
// A negative cost moves the GCRA's theoretical arrival time back one
// interval; a budget nobody used gains nothing. redis_rate stores nothing
// when the time moved back lies in the past, which would leave the last
// interval taken: then the budget is whole, and its key is deleted.
func (l *Limiter) Refund(ctx context.Context, key string, limit int, per time.Duration) error {
	if limit <= 0 {
		return nil
	}
	rl, k := redis_rate.NewLimiter(l.Redis), l.key(key, limit, per)
	res, err := rl.AllowN(ctx, k, budget(limit, per), -1)
	if err == nil && res.ResetAfter <= 0 {
		err = rl.Reset(ctx, k)
	}
	if err != nil {
		return fmt.Errorf("ratelimit: refund: %w", err)
	}
	return nil
}

// budget is limit requests per period, all of which may come at once.
func budget(limit int, per time.Duration) redis_rate.Limit {
	return redis_rate.Limit{Rate: limit, Burst: limit, Period: per}
}

// key is the Redis key of a budget. The limit is part of it: a changed
// limit starts afresh instead of inheriting a state computed under
// another rate.
func (l *Limiter) key(key string, limit int, per time.Duration) string {
	return fmt.Sprintf("%s:rl:%s:%d/%d", l.Namespace, key, limit, per.Milliseconds())
}
