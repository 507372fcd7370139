package journey

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/jobs/metrics"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
)

// Incoming is one event of an ingest request, parsed and checked.
type Incoming struct {
	// EventID deduplicates per panel; empty gets a generated one.
	EventID    string
	Name       string
	At         time.Time
	Channel    string
	MsgID      string
	Properties map[string]any
	// Raw is the whole event object as the sender wrote it, nil when it
	// came as a form: subscriptions may deliver it unchanged.
	Raw json.RawMessage
	// User identifies the contact (may be empty: the event is stored but
	// moves no journey) and Attributes are merged into it.
	User       models.Identity
	Attributes map[string]any
}

// Engine runs journeys. The ingest API hands it events (Accept), which it
// stores at once; workers then process them in batches (HandleIngest): the
// contacts they name, the runs they start or move and the deliveries those
// cause, in one transaction per batch. Timers and flushes are enqueued after
// each commit; if Redis loses them, the sweeps find the work in PostgreSQL.
type Engine struct {
	Store    *models.Store
	Enqueuer *queue.Enqueuer
	Log      *slog.Logger
	// Metrics counts the deliveries journeys write; nil counts nothing.
	Metrics *metrics.Metrics
	// MaxLiveJourneys is the most journeys one panel may have live at
	// once (HERALD_MAX_LIVE_JOURNEYS); 0 sets no bound. Every live journey
	// costs the sweeps all panels share (each second's timers look at
	// each live journey), so one panel's may not grow without bound.
	MaxLiveJourneys int

	live    liveCache
	inserts insertGroup
	// busyHook, when set (tests), is called each time a timers task is
	// about to try again the runs whose contacts were busy.
	busyHook func()
	// awaits is where the next pass of the settled-delivery sweep starts.
	awaits struct {
		sync.Mutex
		from uuid.UUID
	}
}

// IngestResult says what an ingest request did.
type IngestResult struct {
	Stored     int // new events
	Duplicates int // repeats of events already stored
}

// Accept stores a request's events, deduplicated by event_id, and asks for
// them to be processed. It returns once they are in PostgreSQL.
func (e *Engine) Accept(ctx context.Context, panel *models.Panel, source string, in []Incoming) (IngestResult, error) {
	now := e.Store.Now()
	events := make([]models.Event, len(in))
	for i, ev := range in {
		events[i] = models.Event{ID: models.NewID(now), PanelID: panel.ID, EventID: ev.EventID, Source: source,
			Name: ev.Name, Channel: ev.Channel, MsgID: ev.MsgID, Properties: ev.Properties,
			Raw: ev.Raw, OccurredAt: ev.At, ReceivedAt: now}
		if events[i].EventID == "" {
			events[i].EventID = "evt_" + models.ULIDString(events[i].ID)
		}
		if !ev.User.Empty() {
			user := ev.User
			events[i].User, events[i].UserAttributes = &user, ev.Attributes
		}
		events[i].Part = models.PartOf(ev.User) // events naming no user share one partition
	}
	fresh, err := e.inserts.insert(ctx, e.Store, events)
	if err != nil {
		return IngestResult{}, err
	}
	var res IngestResult
	parts := map[int16]bool{}
	for i, f := range fresh {
		if !f {
			res.Duplicates++
			continue
		}
		res.Stored++
		parts[events[i].Part] = true
	}
	for part := range parts {
		if err := e.Enqueuer.Ingest(ctx, panel.ID, part); err != nil {
			e.Log.WarnContext(ctx, "event processing not enqueued; the sweep will pick it up", "panel_id", panel.ID, "error", err)
		}
	}
	return res, nil
}

// ingestBatch is how many events one transaction processes.
const ingestBatch = 500

// HandleIngest processes a partition's events once its window has ended:
// batch after batch while batches come full, then it stops. Events that
// commit after its last claim belong to later windows, whose requests
// enqueued their own tasks; so under steady load each window's events are
// processed in one batch, not one transaction per event.
//
// A task that finds the partition held leaves its events to a later task:
// the holder may have claimed before they committed. It enqueues the
// task of the current window, which claims after that window ends, when
// the events of this task's window are long committed.
func (e *Engine) HandleIngest(ctx context.Context, t *asynq.Task) error {
	var p queue.IngestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("ingest: bad payload: %w: %w", err, asynq.SkipRetry)
	}
	// Wait out the task's window, so the events of every request that
	// found this task's id taken are committed before the claim looks.
	if early := time.UnixMilli(p.WindowEnd).Sub(e.Store.Now()); early > 0 && !sleep(ctx, early) {
		return ctx.Err()
	}
	for {
		n, _, held, err := e.processBatch(ctx, p.PanelID, p.Part, ingestBatch)
		if _, refused := models.RefusedByData(err); refused {
			n, held, err = e.isolate(ctx, p.PanelID, p.Part)
		}
		switch {
		case err != nil:
			return err
		case held:
			return e.Enqueuer.Ingest(ctx, p.PanelID, p.Part)
		case n < ingestBatch:
			return nil
		}
	}
}

// processBatch processes up to limit events of a partition in one
// transaction and says how many it took, and which it claimed first
// (uuid.Nil when none), failed or not; held when another worker holds
// the partition.
func (e *Engine) processBatch(ctx context.Context, panelID int64, part int16, limit int) (n int, first uuid.UUID, held bool, err error) {
	err = e.inTx(ctx, func(q models.Querier, fx *effects) error {
		events, locked, err := e.Store.ClaimEvents(ctx, q, panelID, part, limit)
		held = locked
		if err != nil || locked || len(events) == 0 {
			return err
		}
		n, first = len(events), events[0].ID
		w := &work{e: e, q: q, panel: &models.Panel{ID: panelID}, fx: fx}
		return w.process(ctx, events)
	})
	if err != nil {
		return 0, first, false, err
	}
	return n, first, held, nil
}

// isolate goes through the partition's next events one per transaction,
// up to a batch's worth, after a batch failed because PostgreSQL refused
// the data of some event in it, and says how many it went through. The
// events before that one are processed as usual; the one refused on two
// tries running (a unique violation may be a concurrent writer's, gone on
// a retry) is set aside (setAside), so that it holds up no later event:
// left in place, it failed its batch on every retry and its partition's
// events, a share of the panel's, waited for good. The tries are bounded,
// so events that keep changing places under it cannot hold it.
func (e *Engine) isolate(ctx context.Context, panelID int64, part int16) (n int, held bool, err error) {
	var refused uuid.UUID // the event the last try was refused, if it was
	for tries := 0; n < ingestBatch && tries < 3*ingestBatch; tries++ {
		one, first, locked, err := e.processBatch(ctx, panelID, part, 1)
		if reason, ok := models.RefusedByData(err); ok {
			if first != refused {
				refused = first // once: try it again
				continue
			}
			refused = uuid.Nil
			if one, locked, err = e.setAside(ctx, panelID, part, first, reason, err); err == nil && !locked && one == 0 {
				continue // it is not the next any more: look again
			}
		}
		if err != nil || locked || one == 0 {
			return n, locked, err
		}
		n += one
	}
	return n, false, nil
}

// setAside marks the refused event processed without processing it
// (models.SetEventAside): the panel's settings page lists it with the
// reason, the log says so and herald_events_set_aside_total counts it.
// n is 0 when the event was no longer the partition's next. The log
// names the refusal by SQLSTATE and constraint only (refused is the
// error): the reason, which may quote the refused row, stays on the
// panel's page.
func (e *Engine) setAside(ctx context.Context, panelID int64, part int16, event uuid.UUID, reason string, refused error) (n int, held bool, err error) {
	failed, held, err := e.Store.SetEventAside(ctx, panelID, part, event, reason)
	if err != nil || failed == nil {
		return 0, held, err
	}
	e.Log.ErrorContext(ctx, "event set aside: PostgreSQL refused its data",
		append([]any{"panel_id", panelID, "event", failed.Event}, models.RefusalLogAttrs(refused)...)...)
	metrics.OrNop(e.Metrics).EventsSetAside.Inc()
	return 1, false, nil
}

// SweepEvents enqueues processing for partitions whose events wait longer
// than age: their task was lost with Redis, or never enqueued.
func (e *Engine) SweepEvents(ctx context.Context, age time.Duration) error {
	parts, err := e.Store.StaleParts(ctx, age)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := e.Enqueuer.Ingest(ctx, p.PanelID, p.Part); err != nil {
			return err
		}
	}
	if len(parts) > 0 {
		e.Log.InfoContext(ctx, "re-enqueued event processing", "partitions", len(parts))
	}
	return nil
}

// effects collects what a transaction decided that must happen after it
// commits.
type effects struct {
	now    time.Time
	flush  map[int64]int // webhook → batch wait ms, for webhooks that got pending rows
	timers []*models.Run // runs now waiting
	// settled are runs that wait for a delivery that was never written
	// (its asset is gone): they move on at once, along "failed".
	settled    []models.AwaitedDelivery
	deliveries []models.Delivery
	udt        []udtFill // deliveries whose items wait for data-table rows
	runs       []*models.Run
	touched    map[*models.Run]bool
	newRuns    map[uuid.UUID]bool
	// counts are the steps' counters the runs moved.
	counts []models.NodeCount
}

// inTx runs fn in one transaction with the effects it decides, and
// carries them out (flushes, timers, outcome moves) once it has committed:
// the enqueues only ever follow rows that are in PostgreSQL.
func (e *Engine) inTx(ctx context.Context, fn func(q models.Querier, fx *effects) error) error {
	var fx *effects
	if err := e.Store.InTx(ctx, func(q models.Querier) error {
		fx = newEffects(e.Store.Now())
		return fn(q, fx)
	}); err != nil {
		return err
	}
	e.after(ctx, fx)
	return nil
}

func newEffects(now time.Time) *effects {
	return &effects{now: now, flush: map[int64]int{}, touched: map[*models.Run]bool{}, newRuns: map[uuid.UUID]bool{}}
}

// work is one transaction of the engine.
type work struct {
	e      *Engine
	q      models.Querier
	panel  *models.Panel
	fx     *effects
	assets map[int64]models.AssetInfo
	// envs is each journey's Env, made once per transaction rather than
	// once per run (loadAssets clears it: labels come from assets).
	envs map[*liveJourney]*Env
}

// liveJourney is a parsed live journey.
type liveJourney struct {
	row *models.Journey
	def *Definition
	re  Reentry
}

func parseJourney(j *models.Journey) (*liveJourney, error) {
	var def Definition
	if err := json.Unmarshal(j.Definition, &def); err != nil {
		return nil, fmt.Errorf("journey %d: %w", j.ID, err)
	}
	re, _ := ParseReentry(def.Reentry)
	return &liveJourney{row: j, def: &def, re: re}, nil
}

// process handles claimed events, oldest first: it delivers them to the
// assets subscribed to them, then, for the events that name a user, finds
// or creates the contacts (locking them, as every writer of runs does
// before touching runs), marks the events processed, and starts and moves
// runs. An event naming no user moves no journey.
func (w *work) process(ctx context.Context, events []models.Event) error {
	all := events
	var anonymous []uuid.UUID
	named := events[:0:0]
	for _, ev := range events {
		if ev.User == nil {
			anonymous = append(anonymous, ev.ID)
		} else {
			named = append(named, ev)
		}
	}
	if len(named) == 0 {
		if err := w.deliverSubscribed(ctx, all, nil); err != nil {
			return err
		}
		if err := w.e.Store.MarkProcessed(ctx, w.q, anonymous, make([]*int64, len(anonymous))); err != nil {
			return err
		}
		return w.save(ctx)
	}
	events = named
	ids := make([]models.Identity, len(events))
	attrs := make([]map[string]any, len(events))
	for i, ev := range events {
		ids[i], attrs[i] = *ev.User, ev.UserAttributes
	}
	changes, err := w.e.Store.UpsertContacts(ctx, w.q, w.panel.ID, ids, attrs)
	if err != nil {
		return err
	}
	// Every claimed event is marked in one statement: the anonymous ones
	// with no contact, then the named ones with theirs.
	eventIDs := append(make([]uuid.UUID, 0, len(anonymous)+len(events)), anonymous...)
	contactOf := make([]*int64, len(anonymous), len(anonymous)+len(events))
	var contactIDs []int64
	seen := map[int64]bool{}
	for i := range events {
		c := changes[i].Contact
		eventIDs, contactOf = append(eventIDs, events[i].ID), append(contactOf, &c.ID)
		if !seen[c.ID] {
			seen[c.ID] = true
			contactIDs = append(contactIDs, c.ID)
		}
	}
	// Subscribed assets get every event, named or not, in event order;
	// each delivery notes its event's contact for the delivery log.
	contactOfEvent := make(map[uuid.UUID]*int64, len(eventIDs))
	for i, id := range eventIDs {
		contactOfEvent[id] = contactOf[i]
	}
	if err := w.deliverSubscribed(ctx, all, contactOfEvent); err != nil {
		return err
	}
	if err := w.e.Store.MarkProcessed(ctx, w.q, eventIDs, contactOf); err != nil {
		return err
	}
	live, entries, err := w.prepare(ctx, contactIDs, events)
	if err != nil {
		return err
	}
	if err := w.segmentEntries(ctx, live, changes, entries); err != nil {
		return err
	}
	// Runs waiting for these contacts, in live and paused journeys alike:
	// a paused journey notes that the awaited event came.
	waiting, err := w.e.Store.WaitingRuns(ctx, w.q, contactIDs)
	if err != nil {
		return err
	}
	byJourney, err := w.journeysOf(ctx, waiting, live)
	if err != nil {
		return err
	}
	waitingRuns := make([]*models.Run, len(waiting))
	for i := range waiting {
		waitingRuns[i] = &waiting[i]
	}
	now := w.fx.now
	for i := range events {
		ev := &events[i]
		c := changes[i].Contact
		contact := toJourneyContact(c)
		jev := EventOf(ev)
		// Runs waiting for this event move first, then new entries: an
		// event that ends one run and starts another is seen by both.
		for _, r := range waitingRuns {
			if r.ContactID != c.ID || r.Status != models.RunWaiting || r.Happened {
				continue
			}
			lj := byJourney[r.JourneyID]
			if lj == nil || r.WaitUntil == nil || ev.OccurredAt.After(*r.WaitUntil) {
				continue
			}
			st := runState(r)
			if !lj.def.Awaits(r.Node, st, jev) {
				continue
			}
			if lj.row.Status != models.JourneyLive {
				r.Happened, r.UpdatedAt = true, now
				st.Last = jev
				w.touch(r, st)
				continue
			}
			w.apply(r, lj, st, lj.def.Resume(st, r.Node, jev, contact, w.env(lj)))
		}
		for _, lj := range live {
			if lj.def.StartsOn(jev, contact) {
				if r := w.enter(lj, c, jev, entries); r != nil {
					waitingRuns = append(waitingRuns, r)
				}
			}
		}
	}
	return w.save(ctx)
}

// journeysOf parses the journeys of waiting runs: the live ones are at
// hand; paused ones are loaded.
func (w *work) journeysOf(ctx context.Context, runs []models.Run, live []*liveJourney) (map[int64]*liveJourney, error) {
	out := map[int64]*liveJourney{}
	for _, lj := range live {
		out[lj.row.ID] = lj
	}
	for _, r := range runs {
		if _, ok := out[r.JourneyID]; ok {
			continue
		}
		j, err := w.e.Store.JourneyForRun(ctx, w.q, r.JourneyID)
		if err != nil {
			return nil, err
		}
		if j.Status != models.JourneyPaused {
			out[r.JourneyID] = nil // stopped: its runs no longer move
			continue
		}
		lj, err := parseJourney(j)
		if err != nil {
			return nil, err
		}
		out[r.JourneyID] = lj
	}
	return out, nil
}

// loadAssets loads the assets the journeys' webhook nodes name.
func (w *work) loadAssets(ctx context.Context, live []*liveJourney) error {
	var ids []int64
	for _, lj := range live {
		for _, n := range lj.def.Nodes {
			if n.Type == TypeWebhook {
				ids = append(ids, n.WebhookID)
			}
		}
	}
	var err error
	w.assets, err = w.e.Store.Assets(ctx, w.q, w.panel.ID, ids)
	w.envs = nil
	return err
}

func (w *work) env(lj *liveJourney) *Env {
	if env := w.envs[lj]; env != nil {
		return env
	}
	labels := make(map[int64]string, len(w.assets))
	for id, a := range w.assets {
		labels[id] = a.Label
	}
	env := &Env{JourneyName: lj.row.Name, Labels: labels, Now: w.fx.now,
		NewMsgID: func() string { return models.NewULID(w.fx.now).String() }}
	if w.envs == nil {
		w.envs = map[*liveJourney]*Env{}
	}
	w.envs[lj] = env
	return env
}

// start makes a new run.
func (w *work) start(lj *liveJourney, contactID int64) *models.Run {
	r := &models.Run{ID: models.NewID(w.fx.now), JourneyID: lj.row.ID, PanelID: w.panel.ID, ContactID: contactID,
		StartedAt: w.fx.now, UpdatedAt: w.fx.now}
	w.fx.newRuns[r.ID] = true
	return r
}

// apply records a step of a run: where it is now, and the deliveries of
// the webhook nodes it passed.
func (w *work) apply(r *models.Run, lj *liveJourney, st *State, step Step) {
	now := w.fx.now
	r.Node, r.UpdatedAt, r.Happened = step.Node, now, false
	r.WaitEvent, r.WaitUntil, r.AwaitsDelivery = "", nil, nil
	switch {
	case step.Waiting:
		until := step.WaitUntil
		r.Status, r.WaitEvent, r.WaitUntil = models.RunWaiting, step.WaitEvent, &until
		w.fx.timers = append(w.fx.timers, r)
	case step.AwaitsOutcome:
		// Waits at the webhook node for the delivery of its last fire
		// (below); the delivery's completion moves it on.
		r.Status = models.RunWaiting
	case step.Reason != "":
		r.Status, r.EndReason, r.EndedAt = models.RunEnded, step.Reason, &now
		w.fx.counts = append(w.fx.counts, models.NodeCount{JourneyID: lj.row.ID, Node: step.Node, Counter: "ended", N: 1})
	default:
		r.Status, r.EndedAt = models.RunCompleted, &now
	}
	w.touch(r, st)
	for _, p := range step.Passes {
		if p.Entered {
			w.fx.counts = append(w.fx.counts, models.NodeCount{JourneyID: lj.row.ID, Node: p.Node, Counter: "entered", N: 1})
		}
		if p.Exit != "" {
			w.fx.counts = append(w.fx.counts, models.NodeCount{JourneyID: lj.row.ID, Node: p.Node, Counter: p.Exit, N: 1})
		}
	}
	for _, f := range step.Fires {
		id := models.NewID(now)
		if f.Awaited {
			awaited := id
			r.AwaitsDelivery = &awaited
		}
		a, ok := w.assets[f.WebhookID]
		if !ok {
			w.e.Log.Warn("journey webhook node names a missing asset; skipped", "journey_id", lj.row.ID,
				"webhook_id", f.WebhookID, "run_id", r.ID)
			w.unsent(r, f, id)
			continue
		}
		journeyID, runID := lj.row.ID, r.ID
		contactID := r.ContactID
		d := models.Delivery{ID: id, PanelID: w.panel.ID, WebhookID: f.WebhookID, JourneyID: &journeyID, RunID: &runID,
			JourneyNode: f.Node, RunAwaits: f.Awaited, KeepResponse: f.KeepResponse, ContactID: &contactID, EventName: f.Item.Event}
		if len(f.UDTTables) > 0 {
			// The contact's data-table rows are read in save, which has
			// the transaction; the item is encoded there.
			w.fx.udt = append(w.fx.udt, udtFill{at: len(w.fx.deliveries), item: f.Item, tables: f.UDTTables,
				contactID: r.ContactID, hashPII: a.HashPII})
			w.fx.deliveries = append(w.fx.deliveries, d)
		} else {
			item, err := encodeJourneyItem(&f.Item, id, a.HashPII)
			if err != nil {
				w.e.Log.Error("journey item cannot be encoded; skipped", "journey_id", lj.row.ID, "error", err)
				w.unsent(r, f, id)
				continue
			}
			d.Item = item
			w.fx.deliveries = append(w.fx.deliveries, d)
		}
		if a.Status == models.StatusActive {
			w.fx.flush[f.WebhookID] = a.BatchWaitMS
		}
	}
}

// unsent notes a fire whose delivery was not written: a run waiting for
// it must not wait forever, so it moves on at once, as for a delivery gone.
func (w *work) unsent(r *models.Run, f Fire, id uuid.UUID) {
	if f.Awaited {
		w.fx.settled = append(w.fx.settled, models.AwaitedDelivery{RunID: r.ID, DeliveryID: id})
	}
}

// touch marks a run to be saved with its state. A run that has ended
// keeps only the messages it recorded: its events mattered only while it
// could still send a webhook about them.
func (w *work) touch(r *models.Run, st *State) {
	if r.Status == models.RunWaiting {
		r.State, _ = json.Marshal(st)
	} else {
		r.State, _ = json.Marshal(State{Sent: st.Sent})
	}
	if !w.fx.touched[r] {
		w.fx.touched[r] = true
		w.fx.runs = append(w.fx.runs, r)
	}
}

// udtFill is a delivery whose item still lacks its contact's data-table
// rows (udt_params): at is its index in effects.deliveries.
type udtFill struct {
	at        int
	item      Item
	tables    []string
	contactID int64
	hashPII   bool
}

// fillUDT reads the data-table rows the items of udt lists need and
// encodes those items; a delivery whose item cannot be encoded is dropped.
func (w *work) fillUDT(ctx context.Context) error {
	if len(w.fx.udt) == 0 {
		return nil
	}
	drop := map[int]bool{}
	for _, f := range w.fx.udt {
		// The delivery's own panel: a timer's save carries several panels'
		// effects and has no panel of its own.
		d := &w.fx.deliveries[f.at]
		data, err := w.e.Store.ContactDataIn(ctx, w.q, d.PanelID, f.contactID, f.tables)
		if err != nil {
			return err
		}
		item, err := encodeJourneyItem(withUDT(f.item, data), d.ID, f.hashPII)
		if err != nil {
			w.e.Log.Error("journey item cannot be encoded; skipped", "webhook_id", d.WebhookID, "error", err)
			drop[f.at] = true
			continue
		}
		d.Item = item
	}
	w.fx.udt = nil
	if len(drop) > 0 {
		kept := w.fx.deliveries[:0]
		for i, d := range w.fx.deliveries {
			if !drop[i] {
				kept = append(kept, d)
			}
		}
		w.fx.deliveries = kept
	}
	return nil
}

// withUDT puts a contact's rows of each table the item names in its
// udt_params (numbers kept exact); a table without rows stays [].
func withUDT(it Item, data map[string]json.RawMessage) *Item {
	udt := make(map[string]any, len(it.UDTParams))
	for table, empty := range it.UDTParams {
		udt[table] = empty
		if raw, ok := data[table]; ok {
			var rows []any
			if models.DecodeExact(raw, &rows) == nil {
				udt[table] = rows
			}
		}
	}
	it.UDTParams = udt
	return &it
}

// save writes the runs, deliveries and step counters decided in this
// transaction; the counters last, so their row locks are held briefly.
func (w *work) save(ctx context.Context) error {
	if err := w.fillUDT(ctx); err != nil {
		return err
	}
	if err := w.e.Store.SaveRuns(ctx, w.q, w.fx.runs, func(r *models.Run) bool { return w.fx.newRuns[r.ID] }); err != nil {
		return err
	}
	if err := w.e.Store.EnqueueDeliveriesIn(ctx, w.q, w.fx.deliveries); err != nil {
		return err
	}
	return w.e.Store.AddNodeCounts(ctx, w.q, w.fx.counts)
}

// after enqueues what the committed transaction calls for. Failures are
// logged: the sweep and the reconciler find the work in PostgreSQL.
func (e *Engine) after(ctx context.Context, fx *effects) {
	m := metrics.OrNop(e.Metrics)
	for _, d := range fx.deliveries {
		m.DeliveriesCreated.WithLabelValues(string(d.Status)).Inc()
	}
	for id, wait := range fx.flush {
		if err := e.Enqueuer.Flush(ctx, id, time.Duration(wait)*time.Millisecond); err != nil {
			e.Log.WarnContext(ctx, "flush not enqueued; the reconciler will pick it up", "webhook_id", id, "error", err)
		}
	}
	for _, r := range fx.timers {
		if r.Status != models.RunWaiting || r.WaitUntil == nil || !dueSoon(*r.WaitUntil, fx.now) {
			continue // moved on again within the same request, or left to the feeder
		}
		if err := e.Enqueuer.TimersSoon(ctx, *r.WaitUntil); err != nil {
			e.Log.WarnContext(ctx, "journey timer not enqueued; the sweep will fire it", "run_id", r.ID, "error", err)
		}
	}
	for _, a := range fx.settled {
		if err := e.Enqueuer.Outcome(ctx, a.RunID, a.DeliveryID); err != nil {
			e.Log.WarnContext(ctx, "journey outcome not enqueued; the sweep will move the run", "run_id", a.RunID, "error", err)
		}
	}
}

func runState(r *models.Run) *State {
	var st State
	_ = models.DecodeExact(r.State, &st) // the event's numbers as sent
	return &st
}

// EventOf is a stored event as a run sees it.
func EventOf(ev *models.Event) *Event {
	return &Event{ID: models.ULIDString(ev.ID), Name: ev.Name, Channel: ev.Channel, MsgID: ev.MsgID,
		Properties: ev.Properties, At: ev.OccurredAt}
}

// ContactOf is a stored contact as a run sees it.
func ContactOf(c *models.Contact) *Contact { return toJourneyContact(c) }

func toJourneyContact(c *models.Contact) *Contact {
	email := ""
	if c.Email != nil {
		email = *c.Email
	}
	return &Contact{ID: c.ID, Key: c.Key(), Email: email, Attributes: c.Attributes}
}

// sleep waits for d or until ctx ends; it reports whether it slept fully.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
