// Package health is the failure tracker. Its pure logic (this file) says
// what one request's outcome does to a webhook's health and which alert
// that calls for; it does no I/O, and the deliverer (package delivery)
// feeds it outcomes and stores what it says. Around it (tracker.go), the
// Tracker writes and queues the alerts, resets the health of webhooks put
// back in service and lets quiet degraded ones recover, and the Alerter
// runs the mail:alert task that e-mails them (through package mail).
package health

import (
	"encoding/json"
	"fmt"
	"time"
)

// State is how a webhook is doing.
type State string

// States, in the order a failing endpoint goes through them.
const (
	// Healthy: answering.
	Healthy State = "healthy"
	// Degraded: too many requests fail in the window; an e-mail warns.
	Degraded State = "degraded"
	// Paused: the circuit is open after consecutive failures; only a
	// probe (the held batch, with backoff) goes out until one succeeds.
	Paused State = "paused"
	// Disabled: still failing after the disable window (or a 5xx in strict
	// mode); the asset is disabled and its deliveries are held.
	Disabled State = "disabled"
)

// Thresholds decide the states. Zero fields take the defaults.
type Thresholds struct {
	// DegradedRate is the failure rate over the window that degrades; 0.2.
	DegradedRate float64 `json:"degraded_failure_rate,omitempty"`
	// DegradedMinAttempts is how many requests the window needs before its
	// rate counts; 20.
	DegradedMinAttempts int `json:"degraded_min_attempts,omitempty"`
	// Window is the sliding window of the failure rate; 10m.
	Window Duration `json:"window,omitempty"`
	// PauseAfter is how many consecutive failed requests open the
	// circuit; 5.
	PauseAfter int `json:"pause_after_failures,omitempty"`
	// DisableAfter is how long an endpoint may keep failing before it is
	// disabled; 24h.
	DisableAfter Duration `json:"disable_after,omitempty"`
}

// Defaults are the thresholds where nothing is configured.
var Defaults = Thresholds{DegradedRate: 0.2, DegradedMinAttempts: 20, Window: Duration(10 * time.Minute),
	PauseAfter: 5, DisableAfter: Duration(24 * time.Hour)}

// Merge returns t with its zero fields taken from under (panel settings
// under asset settings, defaults under both).
func (t Thresholds) Merge(under Thresholds) Thresholds {
	if t.DegradedRate == 0 {
		t.DegradedRate = under.DegradedRate
	}
	if t.DegradedMinAttempts == 0 {
		t.DegradedMinAttempts = under.DegradedMinAttempts
	}
	if t.Window == 0 {
		t.Window = under.Window
	}
	if t.PauseAfter == 0 {
		t.PauseAfter = under.PauseAfter
	}
	if t.DisableAfter == 0 {
		t.DisableAfter = under.DisableAfter
	}
	return t
}

// Check validates configured thresholds (zero means "inherit").
func (t Thresholds) Check() error {
	switch {
	case t.DegradedRate < 0 || t.DegradedRate > 1:
		return fmt.Errorf("degraded_failure_rate must be between 0 and 1")
	case t.DegradedMinAttempts < 0 || t.DegradedMinAttempts > 1_000_000:
		return fmt.Errorf("degraded_min_attempts must be between 1 and 1000000")
	case t.Window != 0 && (t.Window.D() < time.Minute || t.Window.D() > 24*time.Hour):
		return fmt.Errorf("window must be between 1m and 24h")
	case t.PauseAfter < 0 || t.PauseAfter > 10_000:
		return fmt.Errorf("pause_after_failures must be between 1 and 10000")
	case t.DisableAfter != 0 && (t.DisableAfter.D() < time.Second || t.DisableAfter.D() > 30*24*time.Hour):
		return fmt.Errorf("disable_after must be between 1s and 720h")
	}
	return nil
}

// Duration is a time.Duration written as a Go duration string ("10m").
type Duration time.Duration

// D is the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes "10m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"10m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("want a duration such as \"10m\"")
	}
	*d = Duration(v)
	return nil
}

// Bucket counts one minute of requests.
type Bucket struct {
	Minute   int64 `json:"m"` // Unix minute
	Attempts int   `json:"a"`
	Failures int   `json:"f"`
}

// Health is a webhook's health as stored with it.
type Health struct {
	State               State      `json:"state"`
	ConsecutiveFailures int        `json:"consecutive_failures"`
	FailingSince        *time.Time `json:"failing_since,omitempty"`
	LastSuccessAt       *time.Time `json:"last_success_at,omitempty"`
	LastFailureAt       *time.Time `json:"last_failure_at,omitempty"`
	LastError           string     `json:"last_error,omitempty"`
	// ProbeAttempts counts the probes of an open circuit, for their backoff.
	ProbeAttempts int `json:"probe_attempts,omitempty"`
	// Alerted: an outage e-mail (degraded or disabled) went out, so the
	// return to healthy is worth a "recovered" e-mail.
	Alerted bool     `json:"alerted,omitempty"`
	Buckets []Bucket `json:"buckets,omitempty"`
}

// Parse reads a stored health; empty means healthy.
func Parse(raw []byte) Health {
	var h Health
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &h)
	}
	if h.State == "" {
		h.State = Healthy
	}
	return h
}

// Window sums the requests of the last window at now.
func (h *Health) Window(window time.Duration, now time.Time) (attempts, failures int) {
	from := now.Add(-window).Unix() / 60
	for _, b := range h.Buckets {
		if b.Minute > from {
			attempts += b.Attempts
			failures += b.Failures
		}
	}
	return attempts, failures
}

// Outcome is what one request came to.
type Outcome struct {
	OK     bool
	Status int    // HTTP status, 0 when none came
	Error  string // one line
	At     time.Time
}

// Alert is an e-mail a transition calls for.
type Alert string

// Alerts: sent for degraded, disabled and recovered, never for paused
// (the circuit opening is routine; degradation already warned).
const (
	NoAlert        Alert = ""
	AlertDegraded  Alert = "degraded"
	AlertDisabled  Alert = "disabled"
	AlertRecovered Alert = "recovered"
)

// Transition is a change of state and the e-mail it calls for.
type Transition struct {
	From, To State
	Alert    Alert
}

// Changed reports a change of state.
func (t Transition) Changed() bool { return t.From != t.To }

// Observe applies one request's outcome. strict disables on the first 5xx
// (the asset's strict_disable). Disabled is left only by Reset: an outcome
// observed while disabled comes from a batch that was in flight when the
// webhook was taken out of service, and changes nothing, so a late 200 cannot
// put it back in service behind the back of the person who must re-enable it.
func (h Health) Observe(o Outcome, t Thresholds, strict bool) (Health, Transition) {
	t = t.Merge(Defaults)
	from := h.State
	if from == "" {
		from, h.State = Healthy, Healthy
	}
	if from == Disabled {
		return h, Transition{From: Disabled, To: Disabled}
	}
	h.addToWindow(o, t.Window.D())
	if o.OK {
		h.ConsecutiveFailures, h.FailingSince, h.ProbeAttempts = 0, nil, 0
		at := o.At
		h.LastSuccessAt = &at
		h.State = h.rateState(t, o.At)
	} else {
		h.ConsecutiveFailures++
		at := o.At
		h.LastFailureAt, h.LastError = &at, o.Error
		if h.FailingSince == nil {
			h.FailingSince = &at
		}
		switch {
		case strict && o.Status >= 500:
			h.State = Disabled
		case h.State == Paused:
			h.ProbeAttempts++
			if o.At.Sub(*h.FailingSince) >= t.DisableAfter.D() {
				h.State = Disabled
			}
		case h.ConsecutiveFailures >= t.PauseAfter:
			h.State = Paused
		default:
			h.State = h.rateState(t, o.At)
		}
	}
	tr := Transition{From: from, To: h.State}
	switch {
	case !tr.Changed():
	case h.State == Disabled:
		tr.Alert, h.Alerted = AlertDisabled, true
	case h.State == Degraded && from == Healthy:
		tr.Alert, h.Alerted = AlertDegraded, true
	case h.State == Healthy && h.Alerted:
		tr.Alert, h.Alerted = AlertRecovered, false
	}
	return h, tr
}

// rateState is healthy or degraded by the window's failure rate.
func (h *Health) rateState(t Thresholds, now time.Time) State {
	attempts, failures := h.Window(t.Window.D(), now)
	if attempts >= t.DegradedMinAttempts && float64(failures) > t.DegradedRate*float64(attempts) {
		return Degraded
	}
	return Healthy
}

func (h *Health) addToWindow(o Outcome, window time.Duration) {
	minute := o.At.Unix() / 60
	oldest := o.At.Add(-window).Unix() / 60
	kept := h.Buckets[:0]
	for _, b := range h.Buckets {
		if b.Minute > oldest {
			kept = append(kept, b)
		}
	}
	h.Buckets = kept
	if n := len(h.Buckets); n == 0 || h.Buckets[n-1].Minute != minute {
		h.Buckets = append(h.Buckets, Bucket{Minute: minute})
	}
	b := &h.Buckets[len(h.Buckets)-1]
	b.Attempts++
	if !o.OK {
		b.Failures++
	}
}

// Reset is the health of an asset put back in service by a person (or by
// the automatic probe): the only way out of Disabled.
func (h Health) Reset() Health {
	return Health{State: Healthy, LastSuccessAt: h.LastSuccessAt, LastFailureAt: h.LastFailureAt, LastError: h.LastError}
}

// Resumed is the health a flush of a webhook in service starts from. If it
// still says Disabled, the webhook was put back in service and the Reset
// that goes with it has not landed: Tracker.Reenabled writes it only while
// no worker holds the send lease, and a flush may have taken the lease
// first. Resumed applies that Reset, since Observe never leaves Disabled.
func (h Health) Resumed() Health {
	if h.State == Disabled {
		return h.Reset()
	}
	return h
}

// ProbeSchedule is the wait before each probe of an open circuit; the last
// repeats.
var ProbeSchedule = []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute}

// NextProbe is when the next probe of an open circuit goes out, on the
// given schedule (nil: ProbeSchedule).
func (h *Health) NextProbe(now time.Time, schedule []time.Duration) time.Time {
	if len(schedule) == 0 {
		schedule = ProbeSchedule
	}
	return now.Add(schedule[min(h.ProbeAttempts, len(schedule)-1)])
}
