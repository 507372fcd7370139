package health

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func fail(at time.Time, status int) Outcome {
	return Outcome{Status: status, Error: "HTTP 500", At: at}
}
func ok(at time.Time) Outcome { return Outcome{OK: true, Status: 200, At: at} }

func TestDegradedAfterFailureRateThenRecovered(t *testing.T) {
	t.Parallel()
	h := Health{}
	var tr Transition
	// 16 successes and 4 failures: 20 % is not over 20 %.
	for i := range 20 {
		o := ok(t0.Add(time.Duration(i) * time.Second))
		if i%5 == 0 {
			o = fail(o.At, 500)
		}
		h, tr = h.Observe(o, Thresholds{}, false)
		require.False(t, tr.Changed(), "request %d", i)
	}
	require.Equal(t, Healthy, h.State)
	h, tr = h.Observe(fail(t0.Add(21*time.Second), 503), Thresholds{}, false)
	require.Equal(t, Transition{From: Healthy, To: Degraded, Alert: AlertDegraded}, tr)
	require.True(t, h.Alerted)

	// Eleven minutes later the window has forgotten: healthy, recovered.
	h, tr = h.Observe(ok(t0.Add(11*time.Minute)), Thresholds{}, false)
	require.Equal(t, Transition{From: Degraded, To: Healthy, Alert: AlertRecovered}, tr)
	require.False(t, h.Alerted)
	a, f := h.Window(10*time.Minute, t0.Add(11*time.Minute))
	require.Equal(t, 1, a)
	require.Equal(t, 0, f)
}

func TestPausedAfterConsecutiveFailuresThenDisabled(t *testing.T) {
	t.Parallel()
	th := Thresholds{PauseAfter: 3, DisableAfter: Duration(time.Hour)}
	h := Health{}
	var tr Transition
	for i := range 2 {
		h, _ = h.Observe(fail(t0.Add(time.Duration(i)*time.Minute), 500), th, false)
		require.Equal(t, Healthy, h.State, "too few requests to be degraded")
	}
	h, tr = h.Observe(fail(t0.Add(2*time.Minute), 500), th, false)
	require.Equal(t, Transition{From: Healthy, To: Paused}, tr, "no e-mail for a pause")
	require.Equal(t, t0.Add(2*time.Minute+30*time.Second), h.NextProbe(t0.Add(2*time.Minute), nil))

	h, tr = h.Observe(fail(t0.Add(30*time.Minute), 0), th, false)
	require.False(t, tr.Changed(), "a failed probe keeps the circuit open")
	require.Equal(t, 1, h.ProbeAttempts)
	require.Equal(t, t0.Add(31*time.Minute), h.NextProbe(t0.Add(30*time.Minute), nil), "probes back off")

	h, tr = h.Observe(fail(t0.Add(61*time.Minute), 502), th, false)
	require.Equal(t, Transition{From: Paused, To: Disabled, Alert: AlertDisabled}, tr, "failing for over an hour")
	require.Equal(t, t0, *h.FailingSince)
}

func TestProbeSuccessClosesTheCircuit(t *testing.T) {
	t.Parallel()
	th := Thresholds{PauseAfter: 2, DegradedMinAttempts: 100}
	h := Health{}
	h, _ = h.Observe(fail(t0, 500), th, false)
	h, _ = h.Observe(fail(t0.Add(time.Second), 500), th, false)
	require.Equal(t, Paused, h.State)
	h, tr := h.Observe(ok(t0.Add(time.Minute)), th, false)
	require.Equal(t, Transition{From: Paused, To: Healthy}, tr, "no e-mail was sent for the pause, so none for its end")
	require.Zero(t, h.ConsecutiveFailures)
	require.Nil(t, h.FailingSince)
}

func TestStrictModeDisablesOnFirst5xx(t *testing.T) {
	t.Parallel()
	h, tr := Health{}.Observe(fail(t0, 400), Thresholds{}, true)
	require.False(t, tr.Changed(), "a 4xx is not a 5xx")
	h, tr = h.Observe(fail(t0, 503), Thresholds{}, true)
	require.Equal(t, Transition{From: Healthy, To: Disabled, Alert: AlertDisabled}, tr)
	require.Equal(t, "HTTP 500", h.LastError)
}

func TestThresholdsMergeAndCheck(t *testing.T) {
	t.Parallel()
	asset := Thresholds{PauseAfter: 2}
	panel := Thresholds{PauseAfter: 9, DisableAfter: Duration(time.Hour)}
	got := asset.Merge(panel).Merge(Defaults)
	require.Equal(t, 2, got.PauseAfter, "the asset's setting wins")
	require.Equal(t, time.Hour, got.DisableAfter.D(), "then the panel's")
	require.Equal(t, 0.2, got.DegradedRate, "then the default") //nolint:testifylint // copied from Defaults, not computed: exact equality is meant
	require.Error(t, Thresholds{DegradedRate: 2}.Check())
	require.Error(t, Thresholds{Window: Duration(time.Second)}.Check())
	require.NoError(t, Thresholds{}.Check())
}

func TestDisabledStaysDisabledUntilReset(t *testing.T) {
	t.Parallel()
	th := Thresholds{PauseAfter: 2, DisableAfter: Duration(time.Hour)}
	// Disabled the usual way: the circuit opened, then the probes failed
	// for longer than DisableAfter.
	disabled := Health{}
	for _, at := range []time.Duration{0, time.Second, 2 * time.Hour} {
		disabled, _ = disabled.Observe(fail(t0.Add(at), 500), th, false)
	}
	require.Equal(t, Disabled, disabled.State)
	require.True(t, disabled.Alerted)
	later := t0.Add(3 * time.Hour)
	tests := []struct {
		name   string
		reset  bool // Reset before the outcome
		o      Outcome
		strict bool
		want   Transition
	}{
		{name: "a 200 from an in-flight batch", o: ok(later), want: Transition{From: Disabled, To: Disabled}},
		{name: "a 200 once the window has forgotten the failures", o: ok(later.Add(24 * time.Hour)),
			want: Transition{From: Disabled, To: Disabled}},
		{name: "a 5xx", o: fail(later, 503), want: Transition{From: Disabled, To: Disabled}},
		{name: "a 5xx in strict mode alerts no second time", o: fail(later, 500), strict: true,
			want: Transition{From: Disabled, To: Disabled}},
		{name: "a 4xx", o: fail(later, 404), want: Transition{From: Disabled, To: Disabled}},
		{name: "a network error", o: fail(later, 0), want: Transition{From: Disabled, To: Disabled}},
		{name: "Reset, then a 200", reset: true, o: ok(later), want: Transition{From: Healthy, To: Healthy}},
		{name: "Reset, then a failure counts afresh", reset: true, o: fail(later, 500),
			want: Transition{From: Healthy, To: Healthy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := disabled
			if tt.reset {
				h = h.Reset()
				require.Equal(t, Health{State: Healthy, LastFailureAt: disabled.LastFailureAt, LastError: disabled.LastError}, h)
			}
			got, tr := h.Observe(tt.o, th, tt.strict)
			require.Equal(t, tt.want, tr)
			if !tt.reset {
				require.Equal(t, disabled, got, "a disabled health records nothing")
				return
			}
			require.False(t, got.Alerted)
			require.Equal(t, map[bool]int{true: 0, false: 1}[tt.o.OK], got.ConsecutiveFailures)
		})
	}
}

func TestResumed(t *testing.T) {
	t.Parallel()
	since := t0.Add(-time.Hour)
	tests := []struct {
		name string
		h    Health
		want Health
	}{
		{name: "disabled is reset", h: Health{State: Disabled, ConsecutiveFailures: 9, FailingSince: &since, LastFailureAt: &t0,
			LastError: "HTTP 500", Alerted: true, Buckets: []Bucket{{Minute: 1, Attempts: 9, Failures: 9}}},
			want: Health{State: Healthy, LastFailureAt: &t0, LastError: "HTTP 500"}},
		{name: "paused is kept", h: Health{State: Paused, ConsecutiveFailures: 5, FailingSince: &since, ProbeAttempts: 2},
			want: Health{State: Paused, ConsecutiveFailures: 5, FailingSince: &since, ProbeAttempts: 2}},
		{name: "degraded is kept", h: Health{State: Degraded, Alerted: true}, want: Health{State: Degraded, Alerted: true}},
		{name: "healthy is kept", h: Health{State: Healthy}, want: Health{State: Healthy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.h.Resumed())
		})
	}
}

func TestAlertRetryDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{1, 2 * time.Second},
		{2, 4 * time.Second},
		{5, 32 * time.Second},
		{8, 256 * time.Second},
		{9, 5 * time.Minute},
		{50, 5 * time.Minute},
		{1 << 30, 5 * time.Minute},
	} {
		require.Equal(t, tc.want, alertRetryDelay(tc.attempt), "attempt %d", tc.attempt)
	}
}

// A failed alert is tried again after alertRetryDelay, unless the mail
// server refused it for good for an hour, on alertRefusedTries attempts,
// or the next try would fall more than a day after the alert was written.
func TestAlertRetry(t *testing.T) {
	t.Parallel()
	created := t0
	for _, tc := range []struct {
		name    string
		attempt int
		refused bool
		now     time.Time
		want    time.Time
	}{
		{"a first failure", 1, false, created.Add(time.Second), created.Add(3 * time.Second)},
		{"refused once: tried again", 1, true, created.Add(time.Second), created.Add(3 * time.Second)},
		{"refused a third time within seconds: tried again", 3, true, created.Add(7 * time.Second), created.Add(15 * time.Second)},
		{"refused for an hour: given up", 14, true, created.Add(time.Hour), time.Time{}},
		{"refused for an hour, but tried once: tried again", 1, true, created.Add(time.Hour), created.Add(time.Hour + 2*time.Second)},
		{"an outage is tried on", 40, false, created.Add(3 * time.Hour), created.Add(3*time.Hour + 5*time.Minute)},
		{"up to a day", 300, false, created.Add(24*time.Hour - 5*time.Minute), created.Add(24 * time.Hour)},
		{"not past it", 300, false, created.Add(24*time.Hour - 5*time.Minute + time.Second), time.Time{}},
	} {
		require.Equal(t, tc.want, alertRetry(tc.attempt, tc.refused, created, tc.now), tc.name)
	}
}
