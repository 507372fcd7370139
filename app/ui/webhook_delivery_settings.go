package ui

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/heraldhq/herald/app/httpx"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/models"
)

// healthFields are the failure tracker's thresholds as the webhook form
// shows them: blank inherits the panel's.
type healthFields struct {
	DegradedRate, DegradedMinAttempts, Window, PauseAfter, DisableAfter string
}

func newHealthFields(raw json.RawMessage) healthFields {
	var th health.Thresholds
	_ = json.Unmarshal(raw, &th) // stored by Validate: an object of these keys
	var f healthFields
	if th.DegradedRate != 0 {
		f.DegradedRate = strconv.FormatFloat(th.DegradedRate, 'f', -1, 64)
	}
	if th.DegradedMinAttempts != 0 {
		f.DegradedMinAttempts = strconv.Itoa(th.DegradedMinAttempts)
	}
	if th.Window != 0 {
		f.Window = goDuration(th.Window.D())
	}
	if th.PauseAfter != 0 {
		f.PauseAfter = strconv.Itoa(th.PauseAfter)
	}
	if th.DisableAfter != 0 {
		f.DisableAfter = goDuration(th.DisableAfter.D())
	}
	return f
}

// deliverySettingsForm reads the form's delivery settings into in, as the
// API's fields of the same names. A field the post leaves out stays as
// stored (a form of an older page); one given must parse. The thresholds
// are checked by the API's own rule (health.ParseThresholds).
func deliverySettingsForm(c *gin.Context, in *models.WebhookInput) error {
	for _, n := range []struct {
		field string
		dst   **int
	}{{"max_attempts", &in.MaxAttempts}, {"rate_limit_per_s", &in.RateLimitPerS},
		{"max_body_bytes", &in.MaxBodyBytes}, {"auto_probe_minutes", &in.AutoProbeMinutes}} {
		raw, ok := c.GetPostForm(n.field)
		if !ok {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return httpx.BadRequest(n.field, "must be a whole number")
		}
		*n.dst = &v
	}
	if raw, ok := c.GetPostForm("give_up_after"); ok {
		in.GiveUpAfter = &raw
	}
	if _, ok := c.GetPostForm("health_window"); !ok {
		return nil
	}
	th := map[string]any{}
	for _, n := range []struct{ form, key string }{
		{"health_degraded_failure_rate", "degraded_failure_rate"}, {"health_degraded_min_attempts", "degraded_min_attempts"},
		{"health_pause_after_failures", "pause_after_failures"},
	} {
		raw := strings.TrimSpace(c.PostForm(n.form))
		if raw == "" {
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return httpx.BadRequest("health_settings", n.key+" must be a number")
		}
		th[n.key] = v
	}
	for _, n := range []struct{ form, key string }{{"health_window", "window"}, {"health_disable_after", "disable_after"}} {
		if raw := strings.TrimSpace(c.PostForm(n.form)); raw != "" {
			th[n.key] = raw
		}
	}
	raw, err := health.ParseThresholds("health_settings", mustJSON(th))
	if err != nil {
		return err
	}
	in.HealthSettings = &raw
	return nil
}
