package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// RunStatus is where a journey run stands.
type RunStatus string

// Run statuses.
const (
	// RunWaiting waits at a wait_for_event node.
	RunWaiting RunStatus = "waiting"
	// RunCompleted reached a stop node.
	RunCompleted RunStatus = "completed"
	// RunStopped was ended by stopping its journey.
	RunStopped RunStatus = "stopped"
	// RunEnded could not go on (the node it was at is gone); EndReason says why.
	RunEnded RunStatus = "ended"
)

// Run is one contact's pass through a journey.
type Run struct {
	ID        uuid.UUID
	JourneyID int64
	PanelID   int64
	ContactID int64
	Status    RunStatus
	Node      string
	WaitEvent string
	WaitUntil *time.Time
	// Happened: the awaited event came while the journey was paused; the
	// run takes the "happened" exit when the journey is live again.
	Happened bool
	// AwaitsDelivery is the delivery a run waiting at a webhook node waits
	// for: it moves on once that delivery is delivered or failed for good.
	AwaitsDelivery *uuid.UUID
	// AwaitedStatus is the status of that delivery (held while its webhook
	// is out of service: the run waits until it is back); filled by
	// ListRuns only, empty when the run awaits none or it is gone.
	AwaitedStatus DeliveryStatus `gorm:"-"`
	State         json.RawMessage
	EndReason     string
	StartedAt     time.Time
	UpdatedAt     time.Time
	EndedAt       *time.Time
}

// TableName pins the table name.
func (Run) TableName() string { return "journey_runs" }

const runColumns = `id, journey_id, panel_id, contact_id, status, node, wait_event, wait_until, happened, state,
	end_reason, started_at, updated_at, ended_at, awaits_delivery`

func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		if err := rows.Scan(&r.ID, &r.JourneyID, &r.PanelID, &r.ContactID, &r.Status, &r.Node, &r.WaitEvent,
			&r.WaitUntil, &r.Happened, &r.State, &r.EndReason, &r.StartedAt, &r.UpdatedAt, &r.EndedAt, &r.AwaitsDelivery); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// WaitingRuns locks the waiting runs of these contacts, oldest first. The
// caller holds the contacts' locks, which every writer of runs takes
// first, so runs are never locked in two orders.
func (s *Store) WaitingRuns(ctx context.Context, q Querier, contactIDs []int64) ([]Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM journey_runs
		WHERE contact_id = ANY($1) AND status = 'waiting' ORDER BY id FOR UPDATE`, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("models: waiting runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("models: waiting runs: %w", err)
	}
	return runs, nil
}

// Entry names a contact's entry into a journey.
type Entry struct {
	JourneyID int64
	ContactID int64
}

// LastEntries says when each of these contacts last entered each of these
// journeys; pairs that never did are absent.
func (s *Store) LastEntries(ctx context.Context, q Querier, journeyIDs, contactIDs []int64) (map[Entry]time.Time, error) {
	out := map[Entry]time.Time{}
	if len(journeyIDs) == 0 || len(contactIDs) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT journey_id, contact_id, max(started_at) FROM journey_runs
		WHERE journey_id = ANY($1) AND contact_id = ANY($2) GROUP BY journey_id, contact_id`, journeyIDs, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("models: last entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		var at time.Time
		if err := rows.Scan(&e.JourneyID, &e.ContactID, &at); err != nil {
			return nil, fmt.Errorf("models: last entries: %w", err)
		}
		out[e] = at
	}
	return out, rows.Err()
}

// SaveRuns writes runs: new ones are inserted, known ones updated.
func (s *Store) SaveRuns(ctx context.Context, q Querier, runs []*Run, isNew func(*Run) bool) error {
	var ins, upd []*Run
	for _, r := range runs {
		if isNew(r) {
			ins = append(ins, r)
		} else {
			upd = append(upd, r)
		}
	}
	cols := func(rs []*Run) []any {
		n := len(rs)
		ids, journeys, panels, contacts := make([]uuid.UUID, n), make([]int64, n), make([]int64, n), make([]int64, n)
		statuses, nodes, events, reasons := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		until, ended := make([]*time.Time, n), make([]*time.Time, n)
		happened, states := make([]bool, n), make([]string, n)
		started, updated := make([]time.Time, n), make([]time.Time, n)
		awaits := make([]*uuid.UUID, n)
		for i, r := range rs {
			awaits[i] = r.AwaitsDelivery
			ids[i], journeys[i], panels[i], contacts[i] = r.ID, r.JourneyID, r.PanelID, r.ContactID
			statuses[i], nodes[i], events[i], reasons[i] = string(r.Status), r.Node, r.WaitEvent, r.EndReason
			until[i], ended[i], happened[i], states[i] = r.WaitUntil, r.EndedAt, r.Happened, string(r.State)
			started[i], updated[i] = r.StartedAt, r.UpdatedAt
		}
		return []any{ids, journeys, panels, contacts, statuses, nodes, events, until, happened, states, reasons, started, updated, ended,
			awaits}
	}
	const unnest = `unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
		$8::timestamptz[], $9::bool[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[],
		$15::uuid[])
		AS v(id, journey_id, panel_id, contact_id, status, node, wait_event, wait_until, happened, state, end_reason,
		     started_at, updated_at, ended_at, awaits_delivery)`
	if len(ins) > 0 {
		if _, err := q.ExecContext(ctx, `INSERT INTO journey_runs (`+runColumns+`)
			SELECT id, journey_id, panel_id, contact_id, status, node, wait_event, wait_until, happened, state::jsonb,
			       end_reason, started_at, updated_at, ended_at, awaits_delivery FROM `+unnest, cols(ins)...); err != nil {
			return fmt.Errorf("models: insert runs: %w", err)
		}
	}
	if len(upd) > 0 {
		if _, err := q.ExecContext(ctx, `UPDATE journey_runs r SET status = v.status, node = v.node, wait_event = v.wait_event,
			wait_until = v.wait_until, happened = v.happened, state = v.state::jsonb, end_reason = v.end_reason,
			updated_at = v.updated_at, ended_at = v.ended_at, awaits_delivery = v.awaits_delivery
			FROM `+unnest+` WHERE r.id = v.id`, cols(upd)...); err != nil {
			return fmt.Errorf("models: update runs: %w", err)
		}
	}
	return nil
}

// RunForTimer locks a waiting run and its contact (the contact first, like
// every writer of runs) for a timer or a resumed journey.
func (s *Store) RunForTimer(ctx context.Context, q Querier, id uuid.UUID) (*Run, *Contact, error) {
	var contactID int64
	err := q.QueryRowContext(ctx, `SELECT contact_id FROM journey_runs WHERE id = $1 AND status = 'waiting'`, id).Scan(&contactID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("models: run %s: %w", id, err)
	}
	contacts, err := s.lockContactsByID(ctx, q, []int64{contactID}, false)
	if err != nil {
		return nil, nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+runColumns+` FROM journey_runs WHERE id = $1 AND status = 'waiting' FOR UPDATE`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("models: run %s: %w", id, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, nil, fmt.Errorf("models: run %s: %w", id, err)
	}
	if len(runs) == 0 || len(contacts) == 0 {
		return nil, nil, ErrNotFound // moved on meanwhile
	}
	return &runs[0], contacts[0], nil
}

// lockContactsByID locks these contacts in id order; with skipBusy, those
// another transaction holds are left out rather than waited for.
func (s *Store) lockContactsByID(ctx context.Context, q Querier, ids []int64, skipBusy bool) ([]*Contact, error) {
	lock := "FOR UPDATE"
	if skipBusy {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	rows, err := q.QueryContext(ctx, `SELECT id, panel_id, external_id, email, phone, attributes, created_at, updated_at
		FROM contacts WHERE id = ANY($1) ORDER BY id `+lock, ids)
	if err != nil {
		return nil, fmt.Errorf("models: lock contacts: %w", err)
	}
	return scanContacts(rows)
}

// JourneyForRun loads the journey of a run, inside the run's transaction.
func (s *Store) JourneyForRun(ctx context.Context, q Querier, journeyID int64) (*Journey, error) {
	var j Journey
	err := q.QueryRowContext(ctx, `SELECT id, panel_id, name, status, definition FROM journeys WHERE id = $1`, journeyID).
		Scan(&j.ID, &j.PanelID, &j.Name, &j.Status, &j.Definition)
	if err != nil {
		return nil, fmt.Errorf("models: journey %d: %w", journeyID, err)
	}
	return &j, nil
}

// DueRun is a waiting run the sweep found due: its wait ran out, or its
// awaited event came while the journey was paused.
type DueRun struct {
	ID        uuid.UUID
	PanelID   int64
	Node      string
	WaitUntil time.Time
	Happened  bool
}

// DueRuns finds waiting runs of live journeys that are due by more than
// grace (their timer task is late or lost) or that saw their event while
// paused, for the sweep that asks for their tasks again: of one journey
// when journeyID is not 0 (one just published again), else of all. Of the
// overdue runs it returns one run for each panel and second (the task of
// the second moves all of them); it orders what it returns by rank within
// the panel, so every panel's earliest second, and earliest run that saw
// its event, come before any panel's second earliest: however many
// overdue runs, or panels with some, the sweep asks for every panel's
// earliest second in its first limit. It reads a few runs of each live
// journey (dueRunsPerJourney of each kind, through
// journey_runs_journey_timers and journey_runs_happened_by_journey): a
// bound on each pass's cost, and runs of paused journeys are not read.
// When no run of any journey is overdue, or saw its event while paused
// (the usual case), one index probe each says so and no journey is read:
// 6,300 live journeys cost a pass 177 ms before that check.
func (s *Store) DueRuns(ctx context.Context, grace time.Duration, journeyID int64, limit int) ([]DueRun, error) {
	var out []DueRun
	err := s.db.WithContext(ctx).Raw(`WITH live AS (
		  SELECT id, panel_id FROM journeys WHERE status = 'live' AND ($3::bigint = 0 OR id = $3)
		), overdue AS (
		  SELECT DISTINCT ON (j.panel_id, date_trunc('second', d.wait_until))
		         d.id, j.panel_id, d.node, d.wait_until, false AS happened
		  FROM live j CROSS JOIN LATERAL (
		    SELECT r.id, r.node, r.wait_until FROM journey_runs r
		    WHERE r.journey_id = j.id AND r.status = 'waiting' AND r.wait_until <= $1
		    ORDER BY r.wait_until, r.id LIMIT $4) d
		  WHERE EXISTS (SELECT 1 FROM journey_runs o WHERE o.status = 'waiting' AND o.wait_until <= $1)
		  ORDER BY j.panel_id, date_trunc('second', d.wait_until), d.wait_until
		), happened AS (
		  SELECT h.id, j.panel_id, h.node, h.wait_until, true AS happened
		  FROM live j CROSS JOIN LATERAL (
		    SELECT r.id, r.node, r.wait_until FROM journey_runs r
		    WHERE r.journey_id = j.id AND r.status = 'waiting' AND r.happened
		    ORDER BY r.id LIMIT $4) h
		  WHERE EXISTS (SELECT 1 FROM journey_runs o WHERE o.status = 'waiting' AND o.happened)
		), due AS (
		  SELECT * FROM overdue UNION ALL SELECT * FROM happened
		)
		SELECT id, panel_id, node, wait_until, happened FROM (
			SELECT due.*, row_number() OVER (PARTITION BY panel_id ORDER BY wait_until, id) AS n FROM due) ranked
		ORDER BY n, wait_until LIMIT $2`, s.Now().Add(-grace), limit, journeyID, dueRunsPerJourney).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("models: due runs: %w", err)
	}
	return out, nil
}

// dueRunsPerJourney is how many overdue runs, and runs that saw their
// event, DueRuns reads of each live journey: a few seconds of each, a
// few rows to sort for each of thousands of journeys.
const dueRunsPerJourney = 5

// ListRuns lists a journey's runs, newest first: those at node (any when
// empty) in status (any when empty).
// A run waiting at a webhook node comes with the status of the delivery
// it awaits (AwaitedStatus), read in the same panel.
func (s *Store) ListRuns(ctx context.Context, panelID, journeyID int64, node string, status RunStatus, limit int) ([]Run, error) {
	rows, err := s.sql.QueryContext(ctx, `SELECT r.id, r.journey_id, r.panel_id, r.contact_id, r.status, r.node, r.wait_event,
		       r.wait_until, r.happened, r.state, r.end_reason, r.started_at, r.updated_at, r.ended_at, r.awaits_delivery,
		       COALESCE(d.status, '')
		FROM journey_runs r
		LEFT JOIN deliveries d ON d.id = r.awaits_delivery AND d.panel_id = r.panel_id AND r.status = 'waiting'
		WHERE r.panel_id = $1 AND r.journey_id = $2 AND ($3 = '' OR r.status = $3) AND ($4 = '' OR r.node = $4)
		ORDER BY r.started_at DESC, r.id DESC LIMIT $5`, panelID, journeyID, string(status), node, limit)
	if err != nil {
		return nil, fmt.Errorf("models: list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		if err := rows.Scan(&r.ID, &r.JourneyID, &r.PanelID, &r.ContactID, &r.Status, &r.Node, &r.WaitEvent,
			&r.WaitUntil, &r.Happened, &r.State, &r.EndReason, &r.StartedAt, &r.UpdatedAt, &r.EndedAt, &r.AwaitsDelivery,
			&r.AwaitedStatus); err != nil {
			return nil, fmt.Errorf("models: list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("models: list runs: %w", err)
	}
	return out, nil
}

// DeliveryOutcome is what became of the delivery a run waits for.
type DeliveryOutcome struct {
	// Gone: the delivery no longer exists (its webhook was deleted).
	Gone   bool
	Status DeliveryStatus
	// Response is the kept body of the 2xx that delivered it (nil when
	// none was kept).
	Response *string
}

// Final reports an outcome a waiting run moves on from: delivered, failed
// for good, or gone.
func (o DeliveryOutcome) Final() bool {
	return o.Gone || o.Status == DeliveryDelivered || o.Status == DeliveryFailed
}

// DeliveryOutcomeOf reads the outcome of a run's delivery, in the run's
// panel only, inside the run's transaction.
func (s *Store) DeliveryOutcomeOf(ctx context.Context, q Querier, panelID int64, id uuid.UUID) (DeliveryOutcome, error) {
	var o DeliveryOutcome
	err := q.QueryRowContext(ctx, `SELECT status, response FROM deliveries WHERE id = $1 AND panel_id = $2`, id, panelID).
		Scan(&o.Status, &o.Response)
	if errors.Is(err, sql.ErrNoRows) {
		return DeliveryOutcome{Gone: true}, nil
	}
	if err != nil {
		return o, fmt.Errorf("models: outcome of delivery %s: %w", id, err)
	}
	return o, nil
}

// AwaitedDelivery names a run waiting at a webhook node and the delivery
// it waits for.
type AwaitedDelivery struct {
	RunID      uuid.UUID
	DeliveryID uuid.UUID
}

// SettledAwaits looks through a slice of the runs waiting for a delivery,
// the next scan of them after from (by the delivery awaited; uuid.Nil is
// the start), for runs of live journeys whose delivery was delivered or
// failed more than grace ago, or is gone, yet that did not move: the task
// that should have moved them was lost. Up to limit, and at most a tenth
// of them of one panel (see DueRuns). next is where the following slice
// starts: uuid.Nil once this one reached the end. A pass reads a slice,
// not every awaiting run: a panel whose million runs wait on a disabled
// webhook costs each pass what any slice costs.
func (s *Store) SettledAwaits(ctx context.Context, grace time.Duration, from uuid.UUID, scan, limit int) (
	found []AwaitedDelivery, next uuid.UUID, err error) {
	// The runs taken are a prefix of the slice's settled runs in the
	// order of the cursor: the next slice starts just before the first
	// one left out (by the cap of a panel or the limit), not past it.
	rows, err := s.sql.QueryContext(ctx, `WITH slice AS (
			SELECT r.id, r.panel_id, r.journey_id, r.awaits_delivery, r.updated_at FROM journey_runs r
			WHERE r.status = 'waiting' AND r.awaits_delivery IS NOT NULL AND r.awaits_delivery > $4
			ORDER BY r.awaits_delivery LIMIT `+strconv.Itoa(scan)+`),
		settled AS (`+settledRanked(`slice`)+`),
		taken AS (SELECT id, awaits_delivery FROM settled WHERE n <= $3 ORDER BY awaits_delivery LIMIT $2),
		cut AS (SELECT s.awaits_delivery AS at FROM settled s WHERE NOT EXISTS (SELECT 1 FROM taken t WHERE t.id = s.id)
			ORDER BY s.awaits_delivery LIMIT 1)
		SELECT id, awaits_delivery, false FROM taken
		UNION ALL
		SELECT NULL, x.next, true FROM (SELECT CASE
			WHEN (SELECT at FROM cut) IS NOT NULL THEN (SELECT l.awaits_delivery FROM slice l WHERE l.awaits_delivery < (SELECT at FROM cut)
				ORDER BY l.awaits_delivery DESC LIMIT 1)
			WHEN (SELECT count(*) FROM slice) = $5 THEN (SELECT l.awaits_delivery FROM slice l ORDER BY l.awaits_delivery DESC LIMIT 1) END AS next) x
		WHERE x.next IS NOT NULL`, s.Now().Add(-grace), limit, max(1, limit/10), from, scan)
	if err != nil {
		return nil, uuid.Nil, fmt.Errorf("models: settled awaits: %w", err)
	}
	found, next, err = scanAwaits(rows)
	if err != nil {
		return nil, uuid.Nil, fmt.Errorf("models: settled awaits: %w", err)
	}
	return found, next, nil
}

// SettledAwaitsOf is SettledAwaits for one journey: a journey published
// again moves its runs whose delivery settled while it was paused without
// waiting for the sweep to come round. It looks through the journey's
// first settledOfJourney waiting runs, a bound on what a publish costs
// the database; the rounds of the sweep find any others.
func (s *Store) SettledAwaitsOf(ctx context.Context, journeyID int64, limit int) ([]AwaitedDelivery, error) {
	rows, err := s.sql.QueryContext(ctx, `WITH slice AS (
			SELECT r.id, r.panel_id, r.journey_id, r.awaits_delivery, r.updated_at FROM (
				SELECT * FROM journey_runs WHERE journey_id = $4 AND status = 'waiting' LIMIT `+strconv.Itoa(settledOfJourney)+`) r
			WHERE r.awaits_delivery IS NOT NULL)
		SELECT id, awaits_delivery, false FROM (`+settledRanked(`slice`)+`) settled WHERE n <= $3 LIMIT $2`,
		s.Now(), limit, limit, journeyID)
	if err != nil {
		return nil, fmt.Errorf("models: settled awaits of journey %d: %w", journeyID, err)
	}
	found, _, err := scanAwaits(rows)
	if err != nil {
		return nil, fmt.Errorf("models: settled awaits of journey %d: %w", journeyID, err)
	}
	return found, nil
}

// settledOfJourney is how many of a journey's waiting runs
// SettledAwaitsOf looks through.
const settledOfJourney = 10_000

// settledRanked are the runs of the awaiting runs in from (a CTE) whose
// journey is live and whose delivery settled at or before $1 (or is gone
// and the run unchanged since), each with its rank in its panel (n), in
// the order of the delivery awaited (SettledAwaits' cursor).
func settledRanked(from string) string {
	return `SELECT s.id, s.awaits_delivery, row_number() OVER (PARTITION BY s.panel_id ORDER BY s.awaits_delivery) AS n FROM ` + from + ` s
		JOIN journeys j ON j.id = s.journey_id AND j.status = 'live'
		LEFT JOIN deliveries d ON d.id = s.awaits_delivery
		WHERE d.id IS NULL AND s.updated_at <= $1 OR d.status IN ('delivered', 'failed') AND d.updated_at <= $1`
}

// scanAwaits reads settled awaits, and the row saying where the next slice
// starts, if any.
func scanAwaits(rows *sql.Rows) (found []AwaitedDelivery, next uuid.UUID, err error) {
	defer rows.Close()
	for rows.Next() {
		var run uuid.NullUUID
		var delivery uuid.UUID
		var last bool
		if err := rows.Scan(&run, &delivery, &last); err != nil {
			return nil, uuid.Nil, err
		}
		if last {
			next = delivery
			continue
		}
		found = append(found, AwaitedDelivery{RunID: run.UUID, DeliveryID: delivery})
	}
	return found, next, rows.Err()
}
