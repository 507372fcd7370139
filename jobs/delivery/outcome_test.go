package delivery

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

func TestOutcome(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	policy := RetryPolicy{Schedule: DefaultRetrySchedule, MaxAttempts: 9, GiveUpAfter: 72 * time.Hour}
	// Row ids in claim order; row(i, ...) is the i-th.
	id := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	row := func(i, attempts int, age time.Duration) models.ClaimedRow {
		return models.ClaimedRow{ID: id[i], Attempts: attempts, CreatedAt: now.Add(-age)}
	}
	fresh := []models.ClaimedRow{row(0, 1, 0), row(1, 1, 0)}
	healthy := health.Health{State: health.Healthy}
	paused := health.Health{State: health.Paused, ProbeAttempts: 2}
	disabled := health.Health{State: health.Disabled}
	tests := []struct {
		name   string
		res    *Response
		rows   []models.ClaimedRow
		health health.Health
		probes []time.Duration
		jitter float64
		want   BatchOutcome
	}{
		{name: "2xx is delivered", res: &Response{StatusCode: 200}, rows: fresh, health: healthy,
			want: BatchOutcome{Delivered: id[:2]}},
		{name: "retryable 5xx with attempts left waits out the backoff", res: &Response{StatusCode: 500},
			rows: []models.ClaimedRow{row(0, 2, 0)}, health: healthy,
			want: BatchOutcome{Retry: id[:1], RetryAt: now.Add(time.Minute)}},
		{name: "the backoff is jittered", res: &Response{StatusCode: 503}, rows: fresh, health: healthy, jitter: 0.5,
			want: BatchOutcome{Retry: id[:2], RetryAt: now.Add(11 * time.Second)}},
		{name: "network error is retried", res: &Response{Err: errString("connection refused")}, rows: fresh, health: healthy,
			want: BatchOutcome{Retry: id[:2], RetryAt: now.Add(10 * time.Second)}},
		{name: "attempts used up fails", res: &Response{StatusCode: 500}, rows: []models.ClaimedRow{row(0, 9, 0)}, health: healthy,
			want: BatchOutcome{Failed: id[:1]}},
		{name: "give_up_after passed fails", res: &Response{StatusCode: 500},
			rows: []models.ClaimedRow{row(0, 3, 71*time.Hour+58*time.Minute)}, health: healthy,
			want: BatchOutcome{Failed: id[:1]}},
		{name: "non-retryable 4xx fails", res: &Response{StatusCode: 400}, rows: fresh, health: healthy,
			want: BatchOutcome{Failed: id[:2]}},
		{name: "redirect fails", res: &Response{StatusCode: 302}, rows: fresh, health: healthy,
			want: BatchOutcome{Failed: id[:2]}},
		{name: "Retry-After longer than the backoff is honoured", res: &Response{StatusCode: 429, RetryAfter: 90 * time.Second},
			rows: fresh, health: healthy, want: BatchOutcome{Retry: id[:2], RetryAt: now.Add(90 * time.Second)}},
		{name: "Retry-After is capped at a day", res: &Response{StatusCode: 503, RetryAfter: 100 * time.Hour},
			rows: fresh, health: healthy, want: BatchOutcome{Retry: id[:2], RetryAt: now.Add(24 * time.Hour)}},
		{name: "paused and retryable waits for the probe", res: &Response{StatusCode: 500}, rows: fresh, health: paused,
			want: BatchOutcome{Retry: id[:2], RetryAt: now.Add(2 * time.Minute)}},
		{name: "paused follows the configured probe schedule", res: &Response{StatusCode: 500}, rows: fresh, health: paused,
			probes: []time.Duration{time.Second, 3 * time.Second},
			want:   BatchOutcome{Retry: id[:2], RetryAt: now.Add(3 * time.Second)}},
		{name: "paused does not use up attempts", res: &Response{Err: errString("timeout")},
			rows: []models.ClaimedRow{row(0, 9, 0), row(1, 30, 100*time.Hour)}, health: paused,
			want: BatchOutcome{Retry: id[:2], RetryAt: now.Add(2 * time.Minute)}},
		{name: "paused and non-retryable fails", res: &Response{StatusCode: 404}, rows: fresh, health: paused,
			want: BatchOutcome{Failed: id[:2]}},
		{name: "disabled keeps the rows for the hold", res: &Response{StatusCode: 500},
			rows: []models.ClaimedRow{row(0, 9, 0), row(1, 1, 0)}, health: disabled,
			want: BatchOutcome{Retry: id[:2], RetryAt: now}},
		{name: "disabled keeps even a non-retryable answer for the hold", res: &Response{StatusCode: 400}, rows: fresh,
			health: disabled, want: BatchOutcome{Retry: id[:2], RetryAt: now}},
		{name: "a 2xx is delivered even when disabled", res: &Response{StatusCode: 204}, rows: fresh, health: disabled,
			want: BatchOutcome{Delivered: id[:2]}},
		{name: "the oldest retried row sets RetryAt", res: &Response{StatusCode: 500},
			rows: []models.ClaimedRow{row(0, 4, 0), row(1, 1, 0), row(2, 2, 0)}, health: healthy,
			want: BatchOutcome{Retry: id[:3], RetryAt: now.Add(30 * time.Minute)}},
		{name: "mixed rows in one batch", res: &Response{StatusCode: 502},
			rows: []models.ClaimedRow{row(0, 9, 0), row(1, 2, 0), row(2, 1, 72*time.Hour)}, health: healthy,
			want: BatchOutcome{Retry: id[1:2], RetryAt: now.Add(time.Minute), Failed: []uuid.UUID{id[0], id[2]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Outcome(OutcomeInput{Response: tt.res, Rows: tt.rows, Health: tt.health, Policy: policy,
				ProbeSchedule: tt.probes, Now: now, Jitter: tt.jitter})
			require.Equal(t, tt.want, got)
		})
	}
}
