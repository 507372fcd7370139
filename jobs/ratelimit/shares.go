package ratelimit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// Shares spends budgets of a Limiter in local grants, so that a busy key
// costs one Redis call a period instead of one a request. Every token it
// hands out was taken from Redis first, so the budget shared by the
// replicas is never exceeded; a grant lasts one period, and what it did
// not hand out is given back. A quiet key is asked for one token at a
// time, as Limiter.Allow does. Exact limits that count only some outcomes
// (Allow then Refund) must keep using the Limiter.
type Shares struct {
	Limiter *Limiter
	// Period is how long a grant lasts; 100 ms when zero.
	Period time.Duration
	// Now is the local clock of grants; Redis's own clock governs the
	// budget. time.Now when nil.
	Now func() time.Time
	// RedisTimeout bounds each Redis call; 250 ms when zero. A request
	// whose grant Redis does not answer in time fails open, as one whose
	// Redis call fails.
	RedisTimeout time.Duration

	mu   sync.Mutex
	keys map[string]*share
}

// idleShare is how long a key's state is kept without requests.
const idleShare = time.Minute

// share is what one replica holds of one budget.
type share struct {
	// lock is held across the Redis call: requests of the key wait for
	// the one refill instead of all asking Redis. A channel, so that a
	// waiting request can give up when its context ends.
	lock        chan struct{}
	forgotten   bool // dropped from the map: look the key up again
	key         string
	limit       int
	per         time.Duration
	tokens      int       // taken from Redis and not handed out yet
	grantedAt   time.Time // when tokens were last taken from Redis
	size        int       // the last grant asked for
	ends        time.Time // end of the current period
	seen        int       // requests in the current period
	oneByOne    bool      // Redis refused a larger grant in this period
	lastRequest time.Time
}

// acquire takes the key's lock, or gives up when ctx ends first.
func (sh *share) acquire(ctx context.Context) bool {
	select {
	case sh.lock <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// tryAcquire takes the key's lock if nobody holds it.
func (sh *share) tryAcquire() bool {
	select {
	case sh.lock <- struct{}{}:
		return true
	default:
		return false
	}
}

func (sh *share) release() { <-sh.lock }

// Allow takes one request from the budget named key (limit requests per
// period per, as Limiter.Allow), from this replica's grant when it has one.
// A Redis failure is returned with ok true, so the caller can fail open.
func (s *Shares) Allow(ctx context.Context, key string, limit int, per time.Duration) (bool, time.Duration, error) {
	if limit <= 0 || s.Limiter == nil {
		return true, 0, nil
	}
	now := s.now()
	for {
		sh := s.share(key, limit, per)
		if !sh.acquire(ctx) {
			// The request is gone or out of time while another of its
			// panel waits on Redis: it fails open, as on a Redis error.
			return true, 0, fmt.Errorf("ratelimit: %w", ctx.Err())
		}
		if sh.forgotten {
			sh.release()
			continue
		}
		ok, wait, err := s.take(ctx, sh, now)
		sh.release()
		return ok, wait, err
	}
}

// take hands out one token of sh, refilling its grant when it is spent or
// its period is over.
func (s *Shares) take(ctx context.Context, sh *share, now time.Time) (bool, time.Duration, error) {
	sh.lastRequest = now
	if !now.Before(sh.ends) {
		// A new period: ask for what the previous one saw, so a key that
		// was quiet gets one token, as with Limiter.Allow.
		demand := sh.seen
		if now.Sub(sh.ends) >= s.period() {
			demand = 1
		}
		sh.ends, sh.seen, sh.oneByOne = now.Add(s.period()), 1, false
		sh.size = grantSize(demand, sh.limit)
		return s.refill(ctx, sh, now)
	}
	sh.seen++
	if sh.tokens > 0 {
		sh.tokens--
		return true, 0, nil
	}
	// Spent before the period is over: the demand outgrew the grant.
	sh.size = grantSize(2*sh.size, sh.limit)
	if sh.oneByOne {
		sh.size = 1
	}
	return s.refill(ctx, sh, now)
}

// grantSize is demand bounded by a tenth of the budget, so no replica can
// hold much of it, and at least one token.
func grantSize(demand, limit int) int {
	return max(1, min(demand, limit/10))
}

// refill brings sh's grant to sh.size tokens (asking Redis only for what
// the leftover lacks, or giving back the surplus) and hands out one. When
// Redis refuses the grant it answers for this one request exactly.
func (s *Shares) refill(ctx context.Context, sh *share, now time.Time) (bool, time.Duration, error) {
	need := sh.size - sh.tokens
	switch {
	case need < 0:
		err := s.giveBack(ctx, sh, -need, now)
		sh.tokens = sh.size // a failed give-back is lost, not handed out
		if err != nil {
			sh.tokens--
			return true, 0, err
		}
	case need > 0:
		res, err := s.allowN(ctx, sh, need)
		if err != nil {
			return true, 0, err
		}
		switch {
		case res.Allowed > 0:
			sh.tokens, sh.grantedAt = sh.size, now
		case sh.tokens > 0:
			sh.oneByOne = true // the leftover is still ours to hand out
		default:
			sh.oneByOne = true
			if need > 1 {
				if res, err = s.allowN(ctx, sh, 1); err != nil {
					return true, 0, err
				}
			}
			if res.Allowed <= 0 {
				return false, max(res.RetryAfter, 0), nil
			}
			sh.tokens, sh.grantedAt = 1, now
		}
	}
	sh.tokens--
	return true, 0, nil
}

// giveBack returns n unused tokens of sh to Redis. redis_rate stores
// nothing when the refund would take the budget past whole, which would
// keep all n taken: then only the whole tokens still counted are given
// back, which leaves less than one token's interval behind. Resetting the
// key instead (as Limiter.Refund does) could erase another replica's grant
// taken in between. Tokens held longer than their interval have decayed in
// Redis already: giving them back would credit the budget with other
// replicas' fresh charges, so only those still counted go back.
func (s *Shares) giveBack(ctx context.Context, sh *share, n int, now time.Time) error {
	n = undecayed(n, now.Sub(sh.grantedAt), sh.per, sh.limit)
	if n <= 0 {
		return nil
	}
	res, err := s.allowN(ctx, sh, -n)
	if err != nil || res.ResetAfter > 0 {
		return err
	}
	interval := sh.per.Seconds() / float64(sh.limit)
	counted := int(math.Floor(float64(n) + res.ResetAfter.Seconds()/interval))
	if counted <= 0 {
		return nil
	}
	_, err = s.allowN(ctx, sh, -counted)
	return err
}

// undecayed is how many of n tokens taken held ago still weigh on a
// budget of limit per period: each interval (per/limit) one has decayed.
func undecayed(n int, held, per time.Duration, limit int) int {
	if held <= 0 {
		return n
	}
	interval := per / time.Duration(limit)
	if interval <= 0 {
		return 0
	}
	return max(0, n-int(held/interval))
}

func (s *Shares) allowN(ctx context.Context, sh *share, n int) (*redis_rate.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(s.RedisTimeout, 250*time.Millisecond))
	defer cancel()
	l := s.Limiter
	res, err := redis_rate.NewLimiter(l.Redis).AllowN(ctx, l.key(sh.key, sh.limit, sh.per), budget(sh.limit, sh.per), n)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	return res, nil
}

// share is the state of a budget, made on first use.
func (s *Shares) share(key string, limit int, per time.Duration) *share {
	id := s.Limiter.key(key, limit, per)
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.keys[id]
	if sh == nil {
		if s.keys == nil {
			s.keys = make(map[string]*share)
		}
		sh = &share{lock: make(chan struct{}, 1), key: key, limit: limit, per: per}
		s.keys[id] = sh
	}
	return sh
}

// Sweep gives back the tokens of grants whose period is over (a busy key
// folds them into its next grant; a key gone quiet would hold them) and
// forgets keys idle for more than a minute.
func (s *Shares) Sweep(ctx context.Context) error {
	return s.sweep(ctx, false)
}

// Close gives back every token held, for a replica that stops serving.
func (s *Shares) Close(ctx context.Context) error {
	return s.sweep(ctx, true)
}

func (s *Shares) sweep(ctx context.Context, all bool) error {
	now := s.now()
	s.mu.Lock()
	shares := make(map[string]*share, len(s.keys))
	for id, sh := range s.keys {
		shares[id] = sh
	}
	s.mu.Unlock()

	var errs []error
	for id, sh := range shares {
		// A key busy with a request is left to it (its next grant takes
		// the leftover into account): one panel's queue on Redis must
		// not hold up the sweep of the others. Close waits for it.
		if all && !sh.acquire(ctx) {
			return errors.Join(append(errs, ctx.Err())...)
		}
		if !all && !sh.tryAcquire() {
			continue
		}
		if sh.tokens > 0 && (all || !now.Before(sh.ends)) {
			if err := s.giveBack(ctx, sh, sh.tokens, now); err != nil {
				errs = append(errs, err)
			} else {
				sh.tokens = 0
				if now.Before(sh.ends) {
					sh.ends = now // the next request starts a period
				}
			}
		}
		if sh.tokens == 0 && now.Sub(sh.lastRequest) > idleShare {
			sh.forgotten = true
			s.mu.Lock()
			if s.keys[id] == sh {
				delete(s.keys, id)
			}
			s.mu.Unlock()
		}
		sh.release()
	}
	return errors.Join(errs...)
}

// Run sweeps every period until ctx ends.
func (s *Shares) Run(ctx context.Context, log *slog.Logger) {
	log = cmp.Or(log, slog.Default())
	tick := time.NewTicker(s.period())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.Sweep(ctx); err != nil {
				log.WarnContext(ctx, "rate limit grants not given back", "error", err)
			}
		}
	}
}

func (s *Shares) period() time.Duration {
	if s.Period > 0 {
		return s.Period
	}
	return 100 * time.Millisecond
}

func (s *Shares) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
