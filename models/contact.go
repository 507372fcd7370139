package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Contact is a customer of a panel. Attributes are upper-case keys.
type Contact struct {
	ID         int64
	PanelID    int64
	ExternalID *string
	Email      *string
	Phone      *string
	Attributes map[string]any `gorm:"serializer:jsonexact"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Key is the contact's primary key in payloads (foreignkey): the external
// id, else the e-mail address, else the phone number.
func (c *Contact) Key() string {
	for _, k := range []*string{c.ExternalID, c.Email, c.Phone} {
		if k != nil && *k != "" {
			return *k
		}
	}
	return ""
}

// Identity names a contact, normalised: e-mail lower-case, phone as digits
// with a leading +. At least one part is set.
type Identity struct {
	ExternalID string
	Email      string
	Phone      string
}

// MaxIdentifierBytes bounds each identifier of a contact: they are indexed,
// and PostgreSQL refuses an index entry of a few kilobytes.
const MaxIdentifierBytes = 255

// TooLong names the first identifier longer than MaxIdentifierBytes
// ("external_id", "email" or "phone"), or is "".
func (i Identity) TooLong() string {
	for _, f := range []struct{ name, v string }{{"external_id", i.ExternalID}, {"email", i.Email}, {"phone", i.Phone}} {
		if len(f.v) > MaxIdentifierBytes {
			return f.name
		}
	}
	return ""
}

// NormalizeEmail trims and lower-cases an e-mail address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// LooksLikeEmail reports whether s could be an e-mail address: something
// before an @, a dot after it, and no spaces or separators. It is the one
// check for the ingest API, the admin API and the UI alike.
func LooksLikeEmail(s string) bool {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " \t\r\n<>,;\"")
}

// NormalizePhone keeps the digits of a phone number and a leading +.
func NormalizePhone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Empty reports an identity that names nobody.
func (id Identity) Empty() bool { return id.ExternalID == "" && id.Email == "" && id.Phone == "" }

// ContactChange is one contact written by UpsertContacts, with its
// attributes as they were before (nil for a new contact), so segment entries
// can be told.
type ContactChange struct {
	Contact *Contact
	Before  map[string]any
}

// UpsertContacts finds or creates the contacts named by ids and merges
// attrs[i] into the attributes of contact i. It returns one change per
// input, in order; inputs naming the same contact share it. The contacts
// are locked (FOR UPDATE) until the transaction ends, always in id order,
// so concurrent writers of the same contacts queue instead of racing.
//
// A contact is matched by external id, then e-mail, then phone; a
// contact found by one of them gains the others it lacks, unless another
// contact holds them (the two stay apart). The inputs are matched in
// order, each as the inputs before it left the contacts, so a batch ends
// as processing its inputs one at a time would (matchInOrder).
func (s *Store) UpsertContacts(ctx context.Context, q Querier, panelID int64, ids []Identity, attrs []map[string]any) ([]ContactChange, error) {
	for i, id := range ids {
		if id.Empty() { // callers skip such inputs
			return nil, fmt.Errorf("models: upsert contacts: input %d names no contact", i)
		}
	}
	now := s.Now()
	ext, emails, phones := identifiersOf(ids)
	var m matching
	for round := 1; ; round++ {
		found, err := s.lockContacts(ctx, q, panelID, ext, emails, phones)
		if err != nil {
			return nil, err
		}
		m = matchInOrder(found, ids)
		if len(m.fresh) == 0 {
			break
		}
		if round > maxContactRounds {
			// Not named by their identifiers: the error reaches the
			// shared log, and they are a person's.
			return nil, fmt.Errorf("models: upsert contacts: %d new contacts still conflicting after %d rounds", len(m.fresh), maxContactRounds)
		}
		all, err := s.insertContacts(ctx, q, panelID, m.fresh, now)
		if err != nil {
			return nil, err
		}
		if all {
			break
		}
		// Another transaction created a contact with one of their
		// identifiers (the insert skipped it): match again, with it, from
		// the start, as if this call had created nothing. The contacts it
		// did create go (no one else sees them yet): one made for a later
		// input would otherwise exist for the earlier ones, or hold an
		// identifier an earlier input now gives another contact. (Found
		// by review.)
		if err := s.deleteCreated(ctx, q, panelID, m.fresh); err != nil {
			return nil, err
		}
	}
	created := make(map[*Contact]bool, len(m.fresh))
	for _, c := range m.fresh {
		created[c] = true
	}

	out := make([]ContactChange, len(ids))
	before := map[int64]map[string]any{}
	dirty := map[int64]*Contact{}
	for i, c := range m.contacts {
		if _, seen := before[c.ID]; !seen && !created[c] {
			before[c.ID] = maps.Clone(c.Attributes)
		}
		changed := m.filled[c]
		for k, v := range attrs[i] {
			if old, ok := c.Attributes[k]; !ok || !jsonEqual(old, v) {
				c.Attributes[k] = v
				changed = true
			}
		}
		if changed {
			dirty[c.ID] = c
		}
		out[i] = ContactChange{Contact: c, Before: before[c.ID]}
	}
	if err := s.saveContacts(ctx, q, dirty, now); err != nil {
		return nil, err
	}
	return out, nil
}

// A contact is known by three kinds of identifier, matched in this order:
// external id, e-mail, phone.
const identifierKinds = 3

// values are an identity's identifiers, by kind ("" where it has none).
func (id Identity) values() [identifierKinds]string {
	return [identifierKinds]string{id.ExternalID, id.Email, id.Phone}
}

// identifierSlots are a contact's identifiers, by kind, to read or fill.
func (c *Contact) identifierSlots() [identifierKinds]**string {
	return [identifierKinds]**string{&c.ExternalID, &c.Email, &c.Phone}
}

// identifiersOf lists the distinct external ids, e-mails and phones ids
// name, each in the order of its first use.
func identifiersOf(ids []Identity) (ext, emails, phones []string) {
	var lists [identifierKinds][]string
	var seen [identifierKinds]map[string]bool
	for _, id := range ids {
		for k, v := range id.values() {
			if v == "" || seen[k][v] {
				continue
			}
			if seen[k] == nil {
				seen[k] = map[string]bool{}
			}
			seen[k][v] = true
			lists[k] = append(lists[k], v)
		}
	}
	return lists[0], lists[1], lists[2]
}

// maxContactRounds bounds UpsertContacts' rounds: each one after the first
// follows a contact that another transaction created meanwhile with one of
// the batch's identifiers, so more than a few mean a storm of them, and the
// batch is better retried.
const maxContactRounds = 4

// matching is what matchInOrder gives a batch.
type matching struct {
	contacts []*Contact        // each input's contact
	filled   map[*Contact]bool // contacts that gained identifiers
	fresh    []*Contact        // contacts to create (ID 0), in order of need
}

// matchInOrder matches each input, in order, as processing the inputs one
// at a time would: against the contacts found, as the inputs before it
// left them (filled with identifiers they lacked), and against the
// contacts those inputs created. An input no contact matches gets a new
// one (fresh), which later inputs match and fill like any other.
func matchInOrder(found []*Contact, ids []Identity) matching {
	x := indexContacts(found)
	m := matching{contacts: make([]*Contact, len(ids)), filled: map[*Contact]bool{}}
	for i, id := range ids {
		c := x.match(id)
		if c == nil {
			c = &Contact{ExternalID: nullable(id.ExternalID), Email: nullable(id.Email), Phone: nullable(id.Phone),
				Attributes: map[string]any{}}
			x.add(c)
			m.fresh = append(m.fresh, c)
		} else if x.fill(c, id) {
			m.filled[c] = true
		}
		m.contacts[i] = c
	}
	return m
}

// contactIndex finds, for an identity, the contact UpsertContacts gives
// it: the first contact (in the order they were locked, by id) with its
// external id, else the first with its e-mail, else the first with its
// phone. Looking each input up in maps rather than walking the contacts
// keeps a batch of n events O(n), where the walk was O(n²): a few
// hundred events a transaction made it a tenth of processing's CPU.
type contactIndex struct {
	found []*Contact
	pos   map[*Contact]int
	by    [identifierKinds]map[string]int // identifier → position in found, by kind
}

func indexContacts(found []*Contact) *contactIndex {
	x := &contactIndex{found: slices.Clip(found), pos: make(map[*Contact]int, len(found))}
	for k := range x.by {
		x.by[k] = map[string]int{}
	}
	for i, c := range found {
		x.pos[c] = i
		x.note(c)
	}
	return x
}

// add places c after every contact found and indexes it.
func (x *contactIndex) add(c *Contact) {
	x.pos[c] = len(x.found)
	x.found = append(x.found, c)
	x.note(c)
}

// note indexes c's identifiers, as they are now (UpsertContacts fills
// those a contact lacks as it goes, and a later input may match by them),
// where no contact before it in found holds them.
func (x *contactIndex) note(c *Contact) {
	i := x.pos[c]
	for k, slot := range c.identifierSlots() {
		if v := *slot; v != nil && *v != "" {
			if j, ok := x.by[k][*v]; !ok || i < j {
				x.by[k][*v] = i
			}
		}
	}
}

// fill gives c the identifiers of id it lacks, and reports whether it
// gained any. It never replaces one (another contact may be known by the
// new value), and it takes none that another contact holds: the two stay
// apart, where giving it to c too would break its uniqueness and fail the
// batch's save on every retry.
func (x *contactIndex) fill(c *Contact, id Identity) bool {
	gained := false
	slots := c.identifierSlots()
	for k, v := range id.values() {
		if v == "" || (*slots[k] != nil && **slots[k] != "") {
			continue
		}
		if i, held := x.by[k][v]; held && x.found[i] != c {
			continue
		}
		*slots[k], gained = &v, true
	}
	if gained {
		x.note(c)
	}
	return gained
}

func (x *contactIndex) match(id Identity) *Contact {
	for k, v := range id.values() {
		if i, ok := x.by[k][v]; ok && v != "" {
			return x.found[i]
		}
	}
	return nil
}

// jsonEqual reports whether two decoded JSON values encode alike. Most
// attributes are scalars, compared as they are: encoding both, as any
// other value is, cost processing more than the rest of the comparison.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return x == y
		}
	case bool:
		if y, ok := b.(bool); ok {
			return x == y
		}
	case json.Number: // its text is its encoding
		if y, ok := b.(json.Number); ok {
			return x == y
		}
	case float64: // equal bits, equal encoding (-0 is not 0 in JSON)
		if y, ok := b.(float64); ok {
			return math.Float64bits(x) == math.Float64bits(y)
		}
	case nil:
		if b == nil {
			return true
		}
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func (s *Store) lockContacts(ctx context.Context, q Querier, panelID int64, ext, emails, phones []string) ([]*Contact, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, panel_id, external_id, email, phone, attributes, created_at, updated_at
		FROM contacts WHERE panel_id = $1 AND (external_id = ANY($2) OR email = ANY($3) OR phone = ANY($4))
		ORDER BY id FOR UPDATE`, panelID, ext, emails, phones)
	if err != nil {
		return nil, fmt.Errorf("models: lock contacts: %w", err)
	}
	return scanContacts(rows)
}

func scanContacts(rows *sql.Rows) ([]*Contact, error) {
	defer rows.Close()
	var out []*Contact
	for rows.Next() {
		c := &Contact{}
		var attrs []byte
		if err := rows.Scan(&c.ID, &c.PanelID, &c.ExternalID, &c.Email, &c.Phone, &attrs, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return nil, fmt.Errorf("models: scan contacts: %w", err)
		}
		if err := DecodeExact(attrs, &c.Attributes); err != nil || c.Attributes == nil {
			c.Attributes = map[string]any{}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// insertContacts creates the fresh contacts, with the identifiers they
// have now, and gives each its id. all is false when another transaction
// holds one of their identifiers: that contact was skipped (ON CONFLICT DO
// NOTHING) and keeps ID 0.
func (s *Store) insertContacts(ctx context.Context, q Querier, panelID int64, fresh []*Contact, now time.Time) (all bool, err error) {
	// A stable order makes concurrent inserts of the same new contacts wait
	// on each other rather than deadlock. (No two of them share an
	// identifier: a later input that would match an earlier one's new
	// contact was matched to it, so the order decides nothing else.)
	order := make([]int, len(fresh))
	for i := range order {
		order[i] = i
	}
	key := func(c *Contact) string {
		return deref(c.ExternalID) + "\x00" + deref(c.Email) + "\x00" + deref(c.Phone)
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(key(fresh[a]), key(fresh[b])) })
	ext, emails, phones := make([]*string, len(order)), make([]*string, len(order)), make([]*string, len(order))
	byKey := make(map[string]int, len(order))
	for i, k := range order {
		c := fresh[k]
		ext[i], emails[i], phones[i] = c.ExternalID, c.Email, c.Phone
		byKey[key(c)] = k
	}
	rows, err := q.QueryContext(ctx, `INSERT INTO contacts (panel_id, external_id, email, phone, attributes, created_at, updated_at)
		SELECT $1, e, m, p, '{}', $5, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS v(e, m, p)
		ON CONFLICT DO NOTHING RETURNING id, external_id, email, phone`, panelID, ext, emails, phones, now)
	if err != nil {
		return false, fmt.Errorf("models: insert contacts: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var got Contact
		if err := rows.Scan(&got.ID, &got.ExternalID, &got.Email, &got.Phone); err != nil {
			return false, fmt.Errorf("models: insert contacts: %w", err)
		}
		k, ok := byKey[key(&got)]
		if !ok { // cannot happen: a row is inserted as given
			return false, fmt.Errorf("models: insert contacts: contact %d is none of those inserted", got.ID)
		}
		c := fresh[k]
		c.ID, c.PanelID, c.CreatedAt, c.UpdatedAt = got.ID, panelID, now, now
		n++
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("models: insert contacts: %w", err)
	}
	return n == len(fresh), nil
}

// deleteCreated deletes the fresh contacts insertContacts created (those
// with an id), in a round UpsertContacts starts over.
func (s *Store) deleteCreated(ctx context.Context, q Querier, panelID int64, fresh []*Contact) error {
	var ids []int64
	for _, c := range fresh {
		if c.ID != 0 {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM contacts WHERE panel_id = $1 AND id = ANY($2)`, panelID, ids); err != nil {
		return fmt.Errorf("models: upsert contacts: start over: %w", err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (s *Store) saveContacts(ctx context.Context, q Querier, dirty map[int64]*Contact, now time.Time) error {
	if len(dirty) == 0 {
		return nil
	}
	var ids []int64
	var ext, emails, phones []*string
	var attrs []string
	for _, c := range dirty {
		raw, _ := json.Marshal(c.Attributes)
		ids, ext, emails, phones, attrs = append(ids, c.ID), append(ext, c.ExternalID), append(emails, c.Email), append(phones, c.Phone), append(attrs, string(raw))
	}
	_, err := q.ExecContext(ctx, `UPDATE contacts c SET external_id = v.e, email = v.m, phone = v.p, attributes = v.a::jsonb, updated_at = $6
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, e, m, p, a)
		WHERE c.id = v.id`, ids, ext, emails, phones, attrs, now)
	if err != nil {
		return fmt.Errorf("models: save contacts: %w", err)
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ContactByID loads one contact of a panel.
func (s *Store) ContactByID(ctx context.Context, panelID, id int64) (*Contact, error) {
	var c Contact
	if err := s.db.WithContext(ctx).Where("panel_id = ?", panelID).Take(&c, id).Error; err != nil {
		return nil, fmt.Errorf("models: contact %d: %w", id, notFound(err))
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return &c, nil
}

// FindContact looks a contact up by one identifier.
func (s *Store) FindContact(ctx context.Context, panelID int64, id Identity) (*Contact, error) {
	q := s.db.WithContext(ctx).Where("panel_id = ?", panelID)
	switch {
	case id.ExternalID != "":
		q = q.Where("external_id = ?", id.ExternalID)
	case id.Email != "":
		q = q.Where("email = ?", id.Email)
	case id.Phone != "":
		q = q.Where("phone = ?", id.Phone)
	default:
		return nil, ErrNotFound
	}
	var c Contact
	if err := q.Take(&c).Error; err != nil {
		return nil, fmt.Errorf("models: find contact: %w", notFound(err))
	}
	if c.Attributes == nil {
		c.Attributes = map[string]any{}
	}
	return &c, nil
}

// TemplateContacts loads contacts of the panel as a body template sees
// them (README, "Body formats"): the current attributes by their
// upper-case names, plus email, phone and external_id (nil when unknown).
// Ids of another panel, or of deleted contacts, are absent. One query.
func (s *Store) TemplateContacts(ctx context.Context, panelID int64, ids []int64) (map[int64]map[string]any, error) {
	out := map[int64]map[string]any{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.sql.QueryContext(ctx, `SELECT id, email, phone, external_id, attributes FROM contacts
		WHERE panel_id = $1 AND id = ANY($2)`, panelID, ids)
	if err != nil {
		return nil, fmt.Errorf("models: template contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var email, phone, externalID sql.NullString
		var raw []byte
		if err := rows.Scan(&id, &email, &phone, &externalID, &raw); err != nil {
			return nil, fmt.Errorf("models: template contacts: %w", err)
		}
		attrs := map[string]any{}
		if err := DecodeExact(raw, &attrs); err != nil { // numbers render with their digits
			return nil, fmt.Errorf("models: template contacts: contact %d: %w", id, err)
		}
		c := make(map[string]any, len(attrs)+3)
		for k, v := range attrs {
			c[strings.ToUpper(k)] = v
		}
		for k, v := range map[string]sql.NullString{"email": email, "phone": phone, "external_id": externalID} {
			c[k] = nil
			if v.Valid && v.String != "" {
				c[k] = v.String
			}
		}
		out[id] = c
	}
	return out, rows.Err()
}
