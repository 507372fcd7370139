package delivery

import (
	"math/rand/v2"
	"net/http"
	"time"
)

// DefaultRetrySchedule is the wait before each retry: the first retry after
// 10 s, the eighth after 24 h. With the default of 9 attempts a delivery is
// tried for about 45 hours before it fails.
var DefaultRetrySchedule = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// maxRetryAfter caps how long a receiver's Retry-After can park a batch.
const maxRetryAfter = 24 * time.Hour

// Verdict is what to do with a batch after a request.
type Verdict int

// Verdicts.
const (
	Delivered Verdict = iota // 2xx
	Retry                    // worth another try later
	GiveUp                   // permanent failure, or out of attempts or time
)

// RetryPolicy decides about retries. It is pure: the clock and the jitter
// come in as arguments.
type RetryPolicy struct {
	Schedule    []time.Duration
	MaxAttempts int
	GiveUpAfter time.Duration
}

// Retryable says whether a response is worth retrying: network errors,
// timeouts, 408, 429 and 5xx. Other answers (4xx, and 3xx, which Herald does
// not follow) would get the same answer again.
func Retryable(r *Response) bool {
	if r.Err != nil {
		return true
	}
	s := r.StatusCode
	return s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500
}

// Decide returns the verdict for a batch whose oldest row was created at
// created and has now been tried attempts times, and when to retry. jitter
// in [-1, 1) spreads retries by up to ±20 % so failing batches do not return
// in lockstep.
func (p RetryPolicy) Decide(r *Response, attempts int, created, now time.Time, jitter float64) (Verdict, time.Time) {
	if r.OK() {
		return Delivered, time.Time{}
	}
	if !Retryable(r) || attempts >= p.MaxAttempts {
		return GiveUp, time.Time{}
	}
	i := min(attempts-1, len(p.Schedule)-1)
	wait := p.Schedule[max(i, 0)]
	wait += time.Duration(float64(wait) * 0.2 * jitter)
	if r.RetryAfter > wait {
		wait = min(r.RetryAfter, maxRetryAfter) // never earlier than the receiver asked
	}
	next := now.Add(wait)
	if next.Sub(created) > p.GiveUpAfter {
		return GiveUp, time.Time{}
	}
	return Retry, next
}

// Jitter is a random value in [-1, 1).
func Jitter() float64 { return rand.Float64()*2 - 1 }
