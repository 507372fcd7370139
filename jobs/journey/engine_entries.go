package journey

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/models"
)

// Member is a contact to add to a list, with attributes to merge.
type Member struct {
	User       models.Identity
	Attributes map[string]any
}

// UpsertContact writes a contact through the admin API and starts the
// segment-triggered journeys it enters by the change.
func (e *Engine) UpsertContact(ctx context.Context, panel *models.Panel, m Member) (*models.Contact, error) {
	var c *models.Contact
	err := e.inTx(ctx, func(q models.Querier, fx *effects) error {
		w := &work{e: e, q: q, panel: panel, fx: fx}
		changes, err := e.Store.UpsertContacts(ctx, q, panel.ID, []models.Identity{m.User}, []map[string]any{m.Attributes})
		if err != nil {
			return err
		}
		c = changes[0].Contact
		live, entries, err := w.prepare(ctx, []int64{c.ID}, nil)
		if err != nil {
			return err
		}
		if err := w.segmentEntries(ctx, live, changes, entries); err != nil {
			return err
		}
		return w.save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AddToList adds contacts to a list (creating or updating them) and starts
// the list-triggered journeys for the ones that were not members yet. It
// returns how many were added.
func (e *Engine) AddToList(ctx context.Context, panel *models.Panel, listID int64, members []Member) (int, error) {
	var added []int64
	err := e.inTx(ctx, func(q models.Querier, fx *effects) error {
		w := &work{e: e, q: q, panel: panel, fx: fx}
		ids := make([]models.Identity, len(members))
		attrs := make([]map[string]any, len(members))
		for i, m := range members {
			ids[i], attrs[i] = m.User, m.Attributes
		}
		changes, err := e.Store.UpsertContacts(ctx, q, panel.ID, ids, attrs)
		if err != nil {
			return err
		}
		byID := map[int64]*models.Contact{}
		var contactIDs []int64
		for _, ch := range changes {
			if byID[ch.Contact.ID] == nil {
				byID[ch.Contact.ID] = ch.Contact
				contactIDs = append(contactIDs, ch.Contact.ID)
			}
		}
		if added, err = e.Store.AddListMembers(ctx, q, listID, contactIDs); err != nil {
			return err
		}
		live, entries, err := w.prepare(ctx, contactIDs, nil)
		if err != nil {
			return err
		}
		if err := w.segmentEntries(ctx, live, changes, entries); err != nil {
			return err
		}
		for _, id := range added {
			for _, lj := range live {
				if t := lj.def.Trigger(); t.List == listID {
					w.enter(lj, byID[id], nil, entries)
				}
			}
		}
		return w.save(ctx)
	})
	if err != nil {
		return 0, err
	}
	return len(added), nil
}

// prepare loads the live journeys, their assets, and when these contacts
// last entered them.
func (w *work) prepare(ctx context.Context, contactIDs []int64, events []models.Event) ([]*liveJourney, map[models.Entry]time.Time, error) {
	live, err := w.e.live.get(ctx, w.e.Store, w.q, w.panel.ID)
	if err != nil {
		return nil, nil, err
	}
	if err := w.loadAssets(ctx, live); err != nil {
		return nil, nil, err
	}
	// Only journeys that limit re-entry, and that this work could start,
	// need the contacts' last entries: with many live journeys the query
	// would otherwise cover every journey for every contact. events, when
	// given, are the events at hand: a journey triggered by another event
	// cannot start.
	names := map[string]bool{}
	for i := range events {
		names[strings.ToLower(events[i].Name)] = true
	}
	var limited []int64
	for _, lj := range live {
		t := lj.def.Trigger()
		if lj.re.Always || events != nil && t != nil && t.Event != "" && !names[strings.ToLower(t.Event)] {
			continue
		}
		limited = append(limited, lj.row.ID)
	}
	entries, err := w.e.Store.LastEntries(ctx, w.q, limited, contactIDs)
	return live, entries, err
}

// segmentEntries starts the live segment-triggered journeys whose segment
// a contact came to match with this change (a new contact matches from
// nothing).
func (w *work) segmentEntries(ctx context.Context, live []*liveJourney, changes []models.ContactChange, entries map[models.Entry]time.Time) error {
	var segIDs []int64
	for _, lj := range live {
		if t := lj.def.Trigger(); t.Segment != 0 {
			segIDs = append(segIDs, t.Segment)
		}
	}
	if len(segIDs) == 0 {
		return nil
	}
	raw, err := w.e.Store.SegmentFilters(ctx, w.q, w.panel.ID, segIDs)
	if err != nil {
		return err
	}
	filters := map[int64][]Filter{}
	for id, r := range raw {
		var fs []Filter
		if json.Unmarshal(r, &fs) == nil {
			filters[id] = fs
		}
	}
	done := map[int64]bool{}
	for _, ch := range changes {
		c := ch.Contact
		if done[c.ID] {
			continue
		}
		done[c.ID] = true
		for _, lj := range live {
			t := lj.def.Trigger()
			fs, ok := filters[t.Segment]
			if t.Segment == 0 || !ok {
				continue
			}
			if !MatchAll(fs, ch.Before, nil) && MatchAll(fs, c.Attributes, nil) {
				w.enter(lj, c, nil, entries)
			}
		}
	}
	return nil
}

// enter starts a run of lj for c if the trigger's filters pass and the
// reentry rule allows it.
func (w *work) enter(lj *liveJourney, c *models.Contact, ev *Event, entries map[models.Entry]time.Time) *models.Run {
	contact := toJourneyContact(c)
	var props map[string]any
	if ev != nil {
		props = ev.Properties
	}
	if !MatchAll(lj.def.Trigger().Filters, contact.Attributes, props) {
		return nil
	}
	key := models.Entry{JourneyID: lj.row.ID, ContactID: c.ID}
	if last, ok := entries[key]; ok && !lj.re.Allows(last, w.fx.now) {
		return nil
	}
	entries[key] = w.fx.now
	r := w.start(lj, c.ID)
	st := &State{}
	w.apply(r, lj, st, lj.def.Enter(st, ev, contact, w.env(lj)))
	return r
}

// liveCache keeps the parsed live journeys of each panel. Each use checks
// the journeys' versions (one light query), so a pause or an edit takes
// effect at once; only unchanged journeys are reused.
type liveCache struct {
	mu sync.Mutex
	m  map[int64][]*liveJourney
}

func (c *liveCache) get(ctx context.Context, store *models.Store, q models.Querier, panelID int64) ([]*liveJourney, error) {
	versions, err := store.LiveVersions(ctx, q, panelID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	cached := c.m[panelID]
	c.mu.Unlock()
	if len(cached) == len(versions) {
		same := true
		for i, v := range versions {
			if cached[i].row.ID != v.ID || !cached[i].row.UpdatedAt.Equal(v.UpdatedAt) {
				same = false
				break
			}
		}
		if same {
			return cached, nil
		}
	}
	rows, err := store.LiveJourneys(ctx, q, panelID)
	if err != nil {
		return nil, err
	}
	live := make([]*liveJourney, 0, len(rows))
	for i := range rows {
		lj, err := parseJourney(&rows[i])
		if err != nil {
			return nil, err
		}
		live = append(live, lj)
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[int64][]*liveJourney{}
	}
	c.m[panelID] = live
	c.mu.Unlock()
	return live, nil
}
