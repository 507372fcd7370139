package httpx

import (
	"time"

	"github.com/heraldhq/herald/models"
)

// TestJSON is the result of a webhook's test request as the admin API
// shows it (a webhook's last_test, POST …/test) and as the UI's Test
// button answers its script.
type TestJSON struct {
	Passed     bool      `json:"passed"`
	StatusCode int       `json:"status_code"`
	LatencyMS  int       `json:"latency_ms"`
	Body       string    `json:"body"`
	Error      string    `json:"error"`
	ErrorClass string    `json:"error_class,omitempty"`
	URL        string    `json:"url"`
	TestedAt   time.Time `json:"tested_at"`
}

// NewTestJSON shows test t.
func NewTestJSON(t *models.WebhookTest) *TestJSON {
	return &TestJSON{Passed: t.Passed, StatusCode: t.StatusCode, LatencyMS: t.LatencyMS, Body: t.ResponseBody,
		Error: t.Error, ErrorClass: t.ErrorClass, URL: t.URL, TestedAt: t.CreatedAt}
}
