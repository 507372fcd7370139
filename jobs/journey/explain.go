package journey

import (
	"fmt"
	"time"
)

// EntryQuestion is what answers "why didn't it fire?" for one event, one
// contact and one journey: the journey's state, its re-entry rule, and
// when the contact last entered it before the event (zero: never).
type EntryQuestion struct {
	Event     *Event
	Contact   *Contact
	Live      bool
	Status    string
	Reentry   Reentry
	LastEntry time.Time
	// At is when the event was processed (the engine's "now" for the
	// re-entry rule).
	At time.Time
}

// EntryAnswer says whether the event started a run, and why (not).
type EntryAnswer struct {
	Entered bool
	Reason  string
}

// ExplainEntry decides as the engine does (the trigger check of StartsOn,
// then the re-entry rule of Reentry.Allows) and says so in words.
func (d *Definition) ExplainEntry(q EntryQuestion) EntryAnswer {
	t := d.Trigger()
	if !q.Live {
		return EntryAnswer{Reason: "the journey is " + q.Status + ": it takes no entries"}
	}
	r := d.entryCheck(q.Event, q.Contact)
	switch r.kind {
	case notAnEventTrigger:
		return EntryAnswer{Reason: "the journey starts on a segment or list, not on an activity"}
	case wrongEvent:
		return EntryAnswer{Reason: fmt.Sprintf("wrong event: the journey starts on %q, this was %q", t.Event, q.Event.Name)}
	case wrongChannel:
		return EntryAnswer{Reason: fmt.Sprintf("wrong channel: the journey wants %q, this came on %q", t.Channel, q.Event.Channel)}
	case filterFailed:
		f := t.Filters[r.filter]
		return EntryAnswer{Reason: fmt.Sprintf("filter %s failed: %s", describeFilter(f), f.actual(q.Contact.Attributes, q.Event.Properties))}
	}
	if !q.Reentry.Allows(q.LastEntry, q.At) {
		reason := "re-entry rule: a contact enters this journey once, and this one entered at " + q.LastEntry.UTC().Format(time.RFC3339)
		if q.Reentry.After > 0 {
			reason = fmt.Sprintf("re-entry rule: a contact may enter again %s after the last entry (%s)", q.Reentry.After,
				q.LastEntry.UTC().Format(time.RFC3339))
		}
		return EntryAnswer{Reason: reason}
	}
	return EntryAnswer{Entered: true, Reason: "the trigger and every filter matched"}
}

// describeFilter writes a filter as a marketer reads it: COUNTRY eq "Canada".
func describeFilter(f Filter) string {
	name := f.Attribute
	if name == "" {
		name = "property " + f.Property
	}
	if f.Op == "exists" {
		return name + " exists"
	}
	return fmt.Sprintf("%s %s %q", name, f.Op, text(f.Value))
}

// actual says what the filter saw instead.
func (f Filter) actual(attrs, props map[string]any) string {
	what := "the contact's " + f.Attribute
	if f.Attribute == "" {
		what = "the event's " + f.Property
	}
	v, ok := f.value(attrs, props)
	if !ok || v == nil || v == "" {
		return what + " is not set"
	}
	return fmt.Sprintf("%s is %q", what, text(v))
}
