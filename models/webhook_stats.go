package models

import (
	"context"
	"fmt"
	"time"
)

// WebhookSummary is how a webhook has been doing, for the list of webhooks.
type WebhookSummary struct {
	WebhookID int64
	// LastAt is the time of the latest request (nil: none kept); LastCode
	// and LastOutcome are its answer and what Herald made of it.
	LastAt      *time.Time
	LastCode    int
	LastOutcome string
	// Attempts and Succeeded count the requests since the given time.
	Attempts  int64
	Succeeded int64
}

// SuccessRate is the share of requests answered with a 2xx; ok is false
// when there were none.
func (w WebhookSummary) SuccessRate() (rate float64, ok bool) {
	if w.Attempts == 0 {
		return 0, false
	}
	return float64(w.Succeeded) / float64(w.Attempts), true
}

// WebhookSummaries summarises each of a panel's webhooks: its latest request
// and its requests since since.
func (s *Store) WebhookSummaries(ctx context.Context, panelID int64, since time.Time) (map[int64]WebhookSummary, error) {
	var rows []WebhookSummary
	err := s.db.WithContext(ctx).Raw(`SELECT w.id AS webhook_id, l.created_at AS last_at,
			COALESCE(l.status_code, 0) AS last_code, COALESCE(l.outcome, '') AS last_outcome,
			r.attempts, r.succeeded
		FROM webhooks w
		LEFT JOIN LATERAL (SELECT a.created_at, a.status_code, a.outcome FROM attempts a
			WHERE a.webhook_id = w.id ORDER BY a.id DESC LIMIT 1) l ON true
		CROSS JOIN LATERAL (SELECT count(*) AS attempts, count(*) FILTER (WHERE a.outcome = 'delivered') AS succeeded
			FROM attempts a WHERE a.webhook_id = w.id AND a.created_at >= $1) r
		WHERE w.panel_id = $2`, since, panelID).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: webhook summaries of panel %d: %w", panelID, err)
	}
	out := make(map[int64]WebhookSummary, len(rows))
	for _, r := range rows {
		out[r.WebhookID] = r
	}
	return out, nil
}

// AttemptBucket is one time slot of a webhook's requests.
type AttemptBucket struct {
	Start time.Time
	// Attempts and Succeeded count requests; DeliveredItems and
	// FailedItems count the events they carried (a batch is one request).
	Attempts       int64
	Succeeded      int64
	DeliveredItems int64
	FailedItems    int64
	// P50 and P95 are request latencies in milliseconds; nil without requests.
	P50, P95 *float64
}

// AttemptSeries buckets a webhook's requests in [from, to) by step, oldest
// first, one bucket per step whether or not it saw requests.
func (s *Store) AttemptSeries(ctx context.Context, panelID, webhookID int64, from, to time.Time, step time.Duration) ([]AttemptBucket, error) {
	n := int(to.Sub(from) / step)
	if n <= 0 || n > 10_000 {
		return nil, fmt.Errorf("models: attempt series: %d buckets", n)
	}
	var rows []struct {
		I              int
		Attempts       int64
		Succeeded      int64
		DeliveredItems int64
		FailedItems    int64
		P50, P95       *float64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT floor(extract(epoch FROM created_at - $1) / $2)::int AS i,
			count(*) AS attempts,
			count(*) FILTER (WHERE outcome = 'delivered') AS succeeded,
			COALESCE(sum(item_count) FILTER (WHERE outcome = 'delivered'), 0) AS delivered_items,
			COALESCE(sum(item_count) FILTER (WHERE outcome <> 'delivered'), 0) AS failed_items,
			percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
			percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
		FROM attempts
		WHERE webhook_id = $3 AND panel_id = $4 AND created_at >= $5 AND created_at < $6
		GROUP BY 1 ORDER BY 1`, from, step.Seconds(), webhookID, panelID, from, to).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: attempt series of webhook %d: %w", webhookID, err)
	}
	out := make([]AttemptBucket, n)
	for i := range out {
		out[i].Start = from.Add(time.Duration(i) * step)
	}
	for _, r := range rows {
		if r.I < 0 || r.I >= n {
			continue
		}
		b := &out[r.I]
		b.Attempts, b.Succeeded, b.DeliveredItems, b.FailedItems, b.P50, b.P95 =
			r.Attempts, r.Succeeded, r.DeliveredItems, r.FailedItems, r.P50, r.P95
	}
	return out, nil
}

// AttemptsByID loads a panel's attempts by id, such as the latest attempt
// of each delivery on a page.
func (s *Store) AttemptsByID(ctx context.Context, panelID int64, ids []int64) (map[int64]Attempt, error) {
	out := make(map[int64]Attempt, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var as []Attempt
	if err := s.db.WithContext(ctx).Where("panel_id = ? AND id IN ?", panelID, ids).Find(&as).Error; err != nil {
		return nil, fmt.Errorf("models: attempts by id: %w", err)
	}
	for _, a := range as {
		out[a.ID] = a
	}
	return out, nil
}
