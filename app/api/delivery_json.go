package api

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald/models"
)

// deliveryJSON is one delivery as the API shows it.
type deliveryJSON struct {
	DeliveryID     string                `json:"delivery_id"`
	Status         models.DeliveryStatus `json:"status"`
	Attempts       int                   `json:"attempts"`
	NextAttemptAt  *time.Time            `json:"next_attempt_at"`
	LastStatusCode int                   `json:"last_status_code,omitempty"`
	LastError      string                `json:"last_error,omitempty"`
	JourneyID      *int64                `json:"journey_id,omitempty"`
	RunID          *uuid.UUID            `json:"run_id,omitempty"`
	Item           json.RawMessage       `json:"item"`
	CreatedAt      time.Time             `json:"created_at"`
	UpdatedAt      time.Time             `json:"updated_at"`
	DeliveredAt    *time.Time            `json:"delivered_at"`
}

func newDeliveryJSON(d *models.Delivery) deliveryJSON {
	out := deliveryJSON{
		DeliveryID: models.DeliveryID(d.ID), Status: d.Status, Attempts: d.Attempts, LastStatusCode: d.LastStatusCode,
		LastError: d.LastError, JourneyID: d.JourneyID, RunID: d.RunID, Item: d.Item,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, DeliveredAt: d.DeliveredAt,
	}
	if d.Status == models.DeliveryPending {
		out.NextAttemptAt = &d.NextAttemptAt
	}
	return out
}

// attemptJSON is one request as the API shows it; its headers were
// redacted before they were stored.
type attemptJSON struct {
	ID             int64           `json:"id"`
	BatchID        string          `json:"batch_id"`
	ItemCount      int             `json:"item_count"`
	Outcome        string          `json:"outcome"`
	StatusCode     int             `json:"status_code"`
	LatencyMS      int             `json:"latency_ms"`
	Error          string          `json:"error,omitempty"`
	ErrorClass     string          `json:"error_class,omitempty"`
	ResponseBody   string          `json:"response_body"`
	RequestHeaders json.RawMessage `json:"request_headers"`
	CreatedAt      time.Time       `json:"created_at"`
}

func newAttemptJSON(a *models.Attempt) attemptJSON {
	return attemptJSON{ID: a.ID, BatchID: a.BatchID, ItemCount: a.ItemCount, Outcome: a.Outcome, StatusCode: a.StatusCode,
		LatencyMS: a.LatencyMS, Error: a.Error, ErrorClass: a.ErrorClass, ResponseBody: a.ResponseBody,
		RequestHeaders: a.RequestHeaders, CreatedAt: a.CreatedAt}
}
