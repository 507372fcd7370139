package delivery

import (
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// BatchOutcome is what one request means for each row it carried. The
// rows of a batch that are retried go back together, due at RetryAt.
type BatchOutcome struct {
	Delivered []uuid.UUID
	Retry     []uuid.UUID
	RetryAt   time.Time
	Failed    []uuid.UUID
}

// OutcomeInput is everything Outcome decides from. It holds no store, no
// sender and no clock, so the decision can be tested as a table.
type OutcomeInput struct {
	// Response is what the request came to.
	Response *Response
	// Rows are the rows the request carried, oldest first.
	Rows []models.ClaimedRow
	// Health is the webhook's health after the request was observed.
	Health health.Health
	// Policy is the webhook's retry policy.
	Policy RetryPolicy
	// ProbeSchedule spaces the probes of an open circuit (nil:
	// health.ProbeSchedule).
	ProbeSchedule []time.Duration
	// Now is when the answer came; Jitter in [-1, 1) spreads the retries.
	Now    time.Time
	Jitter float64
}

// Outcome decides what becomes of each row of a sent batch. Each row gets
// the retry policy's verdict, which the webhook's health then overrides:
//
//   - disabled: the rows not delivered are kept (retried now) for the
//     disable that follows, which holds them in order with the rest;
//   - paused, and the answer worth retrying: the batch was the circuit's
//     probe, so it waits for the next probe and its attempts are not used
//     up, since the endpoint, not the event, is at fault.
//
// The oldest row that is retried sets RetryAt, so the batch stays together.
func Outcome(in OutcomeInput) BatchOutcome {
	var out BatchOutcome
	for _, r := range in.Rows {
		verdict, at := in.Policy.Decide(in.Response, r.Attempts, r.CreatedAt, in.Now, in.Jitter)
		switch {
		case verdict == Delivered:
			// The receiver has it, whatever the health says.
		case in.Health.State == health.Disabled:
			verdict, at = Retry, in.Now
		case in.Health.State == health.Paused && Retryable(in.Response):
			verdict, at = Retry, in.Health.NextProbe(in.Now, in.ProbeSchedule)
		}
		switch verdict {
		case Delivered:
			out.Delivered = append(out.Delivered, r.ID)
		case Retry:
			out.Retry = append(out.Retry, r.ID)
			if out.RetryAt.IsZero() {
				out.RetryAt = at
			}
		case GiveUp:
			out.Failed = append(out.Failed, r.ID)
		}
	}
	return out
}
