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

	"github.com/redis/go-redis/v9"
)

// gcraScript is the generic cell rate algorithm: one key per limit holding
// the "theoretical arrival time". It uses Redis's clock, so every replica
// agrees on time, and it allows a burst of the whole period's allowance.
// Returns {allowed, retry_after_ms}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return {0, math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0}
`)

// Limiter enforces limits shared by every replica, kept in Redis.
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
	interval := float64(per.Milliseconds()) / float64(limit)
	res, err := gcraScript.Run(ctx, l.Redis, []string{l.key(key, limit, per)}, interval, limit).Int64Slice()
	if err != nil {
		return true, 0, fmt.Errorf("ratelimit: %w", err)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}

// refundScript gives one request back to a GCRA budget: the theoretical
// arrival time moves back one interval, never before now.
var refundScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
tat = tat - tonumber(ARGV[1])
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
end
return 1
`)

// Refund gives back one request Allow took from the budget named key, for
// limits that count only some outcomes (failed sign-ins): taking first and
// giving back after keeps concurrent requests from all passing a check.
func (l *Limiter) Refund(ctx context.Context, key string, limit int, per time.Duration) error {
	if limit <= 0 {
		return nil
	}
	interval := float64(per.Milliseconds()) / float64(limit)
	if err := refundScript.Run(ctx, l.Redis, []string{l.key(key, limit, per)}, interval).Err(); err != nil {
		return fmt.Errorf("ratelimit: refund: %w", err)
	}
	return nil
}

// key is the Redis key of a budget. The limit is part of it: a changed
// limit starts afresh instead of inheriting a state computed under
// another rate.
func (l *Limiter) key(key string, limit int, per time.Duration) string {
	return fmt.Sprintf("%s:rl:%s:%d/%d", l.Namespace, key, limit, per.Milliseconds())
}
