package models_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// beforeInsert runs hook once, just before the first INSERT INTO contacts
// goes through the wrapped transaction: a concurrent create, committed at
// exactly that point, without sleeps.
type beforeInsert struct {
	models.Querier
	once sync.Once
	hook func() error
	err  error
}

func (b *beforeInsert) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if strings.Contains(query, "INSERT INTO contacts") {
		b.once.Do(func() { b.err = b.hook() })
		if b.err != nil {
			return nil, b.err
		}
	}
	return b.Querier.QueryContext(ctx, query, args...)
}

// When another transaction creates one of the batch's new contacts just
// before the batch's insert, the batch starts over without the contacts it
// made: every input is matched as if one at a time, after that create, and
// nothing fails. (Found by review: the contact C made for the second input
// in the first round stayed in the table, hidden from matching before its
// input, so the first input, now matched to D by its external id, gave D
// the e-mail C held, and saving D broke the e-mail's uniqueness.)
func TestUpsertContactsStartsOverAfterAConcurrentCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "upsert_start_over")
	require.NoError(t, err)
	_, err = upsert(t, store, panel.ID, models.Identity{Email: "w@example.com", Phone: "+100"}) // A
	require.NoError(t, err)

	ids := []models.Identity{
		{ExternalID: "a", Email: "v@example.com", Phone: "+100"}, // first: A (its e-mail is w@); then D, which gains v@
		{ExternalID: "b", Email: "v@example.com"},                // first: new C {b, v@}; then D by e-mail
		{Phone: "+200"}, // first: new {+200}, skipped for D; then D
	}
	var d []models.ContactChange
	var changes []models.ContactChange
	err = store.InTx(ctx, func(q models.Querier) error {
		w := &beforeInsert{Querier: q, hook: func() error {
			// D {a, +200}, committed by another transaction.
			var err error
			d, err = upsert(t, store, panel.ID, models.Identity{ExternalID: "a", Phone: "+200"})
			return err
		}}
		var err error
		changes, err = store.UpsertContacts(ctx, w, panel.ID, ids, make([]map[string]any, len(ids)))
		return err
	})
	require.NoError(t, err, "a concurrent create must not fail the batch")
	for i, c := range changes {
		require.Equal(t, d[0].Contact.ID, c.Contact.ID, "input %d: D, as one at a time after D was made", i)
		require.NotNil(t, c.Before, "input %d: D is not new to the batch", i)
	}
	got, err := store.ContactByID(ctx, panel.ID, d[0].Contact.ID)
	require.NoError(t, err)
	require.Equal(t, "v@example.com", *got.Email)
	_, err = store.FindContact(ctx, panel.ID, models.Identity{ExternalID: "b"})
	require.ErrorIs(t, err, models.ErrNotFound, "the contact made for the second input in the first round is gone")
}
