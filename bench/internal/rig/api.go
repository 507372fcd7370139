package rig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// API is a client of one deployment's admin and ingest APIs.
type API struct {
	base, token string
	http        *http.Client
}

// NewAPI returns a client of d that keeps up to conns connections open.
func NewAPI(d *Deployment, conns int) *API {
	return &API{base: d.URL, token: d.Token, http: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: 30 * time.Second}}
}

// As is a client of the same deployment with another panel's token.
func (a *API) As(token string) *API {
	c := *a
	c.token = token
	return &c
}

// StatusError is an answer other than the one expected.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Body) }

func (a *API) post(path, bearer string, body, out any) error {
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.base+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }() // the body is read whole first
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %w", path, &StatusError{resp.StatusCode, string(b)})
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ActiveWebhook creates, tests and activates a webhook; extra fields go
// into its configuration.
func (a *API) ActiveWebhook(label, target string, batchSize, waitMS int, extra map[string]any) (int64, error) {
	spec := map[string]any{"label": label, "url": target, "batch_size": batchSize, "batch_wait_ms": waitMS}
	for k, v := range extra {
		spec[k] = v
	}
	var w struct{ ID int64 }
	if err := a.post("/api/v1/webhooks", a.token, spec, &w); err != nil {
		return 0, err
	}
	path := fmt.Sprintf("/api/v1/webhooks/%d", w.ID)
	if err := a.post(path+"/test", a.token, nil, nil); err != nil {
		return 0, err
	}
	return w.ID, a.post(path+"/activate", a.token, nil, nil)
}

// Deliver creates n deliveries stamped with the time they were sent.
func (a *API) Deliver(webhookID int64, n int) error {
	now := time.Now().UnixNano()
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"sent_ns": now, "event": "open", "channel": "email",
			"event_params": map[string]any{"email": "user@example.com", "ts": 221202154805}}
	}
	return a.post(fmt.Sprintf("/api/v1/webhooks/%d/deliveries", webhookID), a.token, map[string]any{"items": items}, nil)
}

// DeliverItems creates one delivery per item and returns their delivery
// ids, which a receiver knows them by.
func (a *API) DeliverItems(webhookID int64, items []map[string]any) ([]string, error) {
	var out struct {
		DeliveryIDs []string `json:"delivery_ids"`
	}
	err := a.post(fmt.Sprintf("/api/v1/webhooks/%d/deliveries", webhookID), a.token, map[string]any{"items": items}, &out)
	return out.DeliveryIDs, err
}

// Publish creates a journey from its definition and publishes it; it
// returns the journey's id.
func (a *API) Publish(def map[string]any) (int64, error) {
	var j struct{ ID int64 }
	if err := a.post("/api/v1/journeys", a.token, def, &j); err != nil {
		return 0, err
	}
	return j.ID, a.post(fmt.Sprintf("/api/v1/journeys/%d/publish", j.ID), a.token, nil, nil)
}

// RunCounts is a journey's runs by status.
func (a *API) RunCounts(journeyID int64) (map[string]int64, error) {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/journeys/%d", a.base, journeyID), nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	var j struct {
		Runs map[string]int64 `json:"runs"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, &StatusError{resp.StatusCode, string(b)}
	}
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
		return nil, err
	}
	return j.Runs, nil
}

// Journey publishes a journey that sends every event named event to a
// webhook, with the event's properties as payload_params.
func (a *API) Journey(event string, webhookID int64) error {
	var j struct{ ID int64 }
	def := map[string]any{"name": event, "reentry": "always", "nodes": []map[string]any{
		{"id": "t", "type": "trigger", "event": event, "next": "h"},
		{"id": "h", "type": "webhook", "webhook_id": webhookID, "event_params": []string{"timestamp", "email"},
			"att_params": []string{"EMAIL", "FIRSTNAME"}, "next": "s"},
		{"id": "s", "type": "stop"},
	}}
	if err := a.post("/api/v1/journeys", a.token, def, &j); err != nil {
		return err
	}
	return a.post(fmt.Sprintf("/api/v1/journeys/%d/publish", j.ID), a.token, nil, nil)
}

// Event is one event for the ingest API.
type Event struct {
	Event      string         `json:"event"`
	EventID    string         `json:"event_id,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	User       map[string]any `json:"user,omitempty"`
}

// Ingest posts events with an ingest key: one as an object, several as an
// array.
func (a *API) Ingest(key string, evs []Event) error {
	var body any = evs
	if len(evs) == 1 {
		body = evs[0]
	}
	return a.post("/v1/webhook/bench", key, body, nil)
}
