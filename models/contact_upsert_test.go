package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// An event that gives a known contact its e-mail, and a later event of the
// same batch known only by that e-mail, are the same person: the second
// is that contact, not a new one. (A new one was created, with the e-mail,
// and saving the first contact with it too broke the e-mail's uniqueness:
// the whole batch failed, and failed again on every retry.)
func TestUpsertContactsMatchesByAnIdentifierGainedEarlierInTheBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(ctx, "upsert_gained")
	require.NoError(t, err)
	first, err := upsert(t, store, panel.ID, models.Identity{ExternalID: "ann"})
	require.NoError(t, err)
	known := first[0].Contact

	for _, batch := range []struct {
		name string
		ids  []models.Identity
	}{
		{"all known", []models.Identity{{ExternalID: "ann", Email: "ann@example.com"}, {Email: "ann@example.com"}}},
		{"and a new one", []models.Identity{{ExternalID: "ann", Phone: "+100"}, {ExternalID: "bob"}, {Phone: "+100"}}},
	} {
		changes, err := upsert(t, store, panel.ID, batch.ids...)
		require.NoError(t, err, batch.name)
		require.Equal(t, known.ID, changes[0].Contact.ID, batch.name)
		require.Equal(t, known.ID, changes[len(changes)-1].Contact.ID, "%s: the last input is the contact the first filled", batch.name)
	}
	got, err := store.ContactByID(ctx, panel.ID, known.ID)
	require.NoError(t, err)
	require.Equal(t, "ann@example.com", *got.Email)
	require.Equal(t, "+100", *got.Phone)
}

// upsert runs UpsertContacts for ids in a transaction of its own.
func upsert(t *testing.T, store *models.Store, panelID int64, ids ...models.Identity) ([]models.ContactChange, error) {
	t.Helper()
	var changes []models.ContactChange
	err := store.InTx(context.Background(), func(q models.Querier) error {
		var err error
		changes, err = store.UpsertContacts(context.Background(), q, panelID, ids, make([]map[string]any, len(ids)))
		return err
	})
	return changes, err
}

// A contact matched by one identifier does not take another that a
// different contact already holds: they stay two contacts, and the event
// is processed. (Filling it broke the identifier's uniqueness, so the
// batch failed on every retry and held up its partition's later events.)
func TestUpsertContactsTakesNoIdentifierAnotherContactHolds(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	panel, err := store.EnsurePanel(context.Background(), "upsert_held")
	require.NoError(t, err)
	byExt, err := upsert(t, store, panel.ID, models.Identity{ExternalID: "ann"})
	require.NoError(t, err)
	byEmail, err := upsert(t, store, panel.ID, models.Identity{Email: "ann@example.com", Phone: "+100"})
	require.NoError(t, err)
	require.NotEqual(t, byExt[0].Contact.ID, byEmail[0].Contact.ID)

	for _, batch := range [][]models.Identity{
		{{ExternalID: "ann", Email: "ann@example.com", Phone: "+200"}},
		{{ExternalID: "ann", Phone: "+100"}, {ExternalID: "ann", Phone: "+300"}},
	} {
		changes, err := upsert(t, store, panel.ID, batch...)
		require.NoError(t, err, "%+v", batch)
		for _, c := range changes {
			require.Equal(t, byExt[0].Contact.ID, c.Contact.ID, "matched by external id first")
		}
	}
	ann, err := store.ContactByID(context.Background(), panel.ID, byExt[0].Contact.ID)
	require.NoError(t, err)
	require.Nil(t, ann.Email, "the e-mail stays with the contact that holds it")
	require.Equal(t, "+200", *ann.Phone, "a free identifier is taken")
	other, err := store.ContactByID(context.Background(), panel.ID, byEmail[0].Contact.ID)
	require.NoError(t, err)
	require.Equal(t, "ann@example.com", *other.Email)
	require.Equal(t, "+100", *other.Phone)
}

// An input is matched as the contacts stood when its turn came: not by an
// identifier a later input of the batch gave another contact. (Found by
// review: X {bob, x@} matched c1 by e-mail, then Y {bob, y@} gave c2 the
// external id bob, and X was re-matched to c2 by it.)
func TestUpsertContactsMatchesNoInputByWhatALaterInputFilled(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	for i, batch := range [][]models.Identity{
		{{ExternalID: "bob", Email: "x@example.com"}, {ExternalID: "bob", Email: "y@example.com"}},
		// the same with a new contact in the batch, so the contacts are read again
		{{ExternalID: "bob", Email: "x@example.com"}, {ExternalID: "bob", Email: "y@example.com"}, {ExternalID: "new"}},
	} {
		panel, err := store.EnsurePanel(context.Background(), fmt.Sprintf("upsert_later_%d", i))
		require.NoError(t, err)
		c1, err := upsert(t, store, panel.ID, models.Identity{ExternalID: "ann", Email: "x@example.com"})
		require.NoError(t, err)
		c2, err := upsert(t, store, panel.ID, models.Identity{Email: "y@example.com"})
		require.NoError(t, err)
		changes, err := upsert(t, store, panel.ID, batch...)
		require.NoError(t, err)
		require.Equal(t, c1[0].Contact.ID, changes[0].Contact.ID, "batch %d: by e-mail, as it stood", i)
		require.Equal(t, c2[0].Contact.ID, changes[1].Contact.ID, "batch %d", i)
	}
}
