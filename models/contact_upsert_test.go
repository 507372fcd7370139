package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

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

// A batch gives its inputs the contacts that processing them one at a
// time would: a contact created for a later input does not exist yet when
// an earlier input's turn comes, and of two new inputs that share an
// identifier, the first creates the contact. (Found by review: every
// missing input was created first and the whole batch matched again, so
// the earlier input below went to the later one's new contact by its
// external id, and which of two new inputs won went by string order.)
func TestUpsertContactsMatchesTheBatchAsIfOneInputAtATime(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	ids := func(c []models.ContactChange) []int64 {
		out := make([]int64, len(c))
		for i := range c {
			out[i] = c[i].Contact.ID
		}
		return out
	}

	t.Run("a contact made for a later input", func(t *testing.T) {
		t.Parallel()
		panel, err := store.EnsurePanel(ctx, "upsert_in_order_later")
		require.NoError(t, err)
		known, err := upsert(t, store, panel.ID, models.Identity{ExternalID: "u0", Email: "ann@example.com"})
		require.NoError(t, err)
		changes, err := upsert(t, store, panel.ID,
			models.Identity{ExternalID: "u1", Email: "ann@example.com"}, // u1 is nobody yet: ann by e-mail
			models.Identity{ExternalID: "u1"})                           // a new contact
		require.NoError(t, err)
		require.Equal(t, known[0].Contact.ID, changes[0].Contact.ID, "the first input, as the contacts stood at its turn")
		require.NotEqual(t, known[0].Contact.ID, changes[1].Contact.ID)
		require.Nil(t, changes[1].Before, "new")
		require.NotNil(t, changes[0].Before, "known")
	})

	t.Run("two new inputs sharing a phone", func(t *testing.T) {
		t.Parallel()
		panel, err := store.EnsurePanel(ctx, "upsert_in_order_first")
		require.NoError(t, err)
		// "zed" sorts after "amy": the first input must win anyway.
		changes, err := upsert(t, store, panel.ID,
			models.Identity{ExternalID: "zed", Phone: "+100"},
			models.Identity{ExternalID: "amy", Phone: "+100"}) // zed's contact by phone; it has an external id
		require.NoError(t, err)
		require.Equal(t, []int64{changes[0].Contact.ID, changes[0].Contact.ID}, ids(changes))
		got, err := store.ContactByID(ctx, panel.ID, changes[0].Contact.ID)
		require.NoError(t, err)
		require.Equal(t, "zed", *got.ExternalID)
		_, err = store.FindContact(ctx, panel.ID, models.Identity{ExternalID: "amy"})
		require.ErrorIs(t, err, models.ErrNotFound, "no contact for amy")
	})

	t.Run("a chain of new inputs", func(t *testing.T) {
		t.Parallel()
		panel, err := store.EnsurePanel(ctx, "upsert_in_order_chain")
		require.NoError(t, err)
		changes, err := upsert(t, store, panel.ID,
			models.Identity{ExternalID: "kim"},
			models.Identity{ExternalID: "kim", Email: "kim@example.com"},
			models.Identity{Email: "kim@example.com", Phone: "+200"},
			models.Identity{ExternalID: "lee", Phone: "+300"})
		require.NoError(t, err)
		got := ids(changes)
		require.Equal(t, []int64{got[0], got[0], got[0]}, got[:3], "one person, named three ways")
		require.NotEqual(t, got[0], got[3])
		kim, err := store.ContactByID(ctx, panel.ID, got[0])
		require.NoError(t, err)
		require.Equal(t, "kim@example.com", *kim.Email)
		require.Equal(t, "+200", *kim.Phone)
	})
}

// When another transaction creates a contact the batch was about to
// create, the batch matches again with it, and the contact this call made
// for a later input does not exist for the earlier ones.
func TestUpsertContactsMatchesAgainAroundAConcurrentCreate(t *testing.T) {
	t.Parallel()
	store := modeltest.Store(t)
	ctx := context.Background()
	panel, err := store.EnsurePanel(ctx, "upsert_concurrent")
	require.NoError(t, err)
	ann, err := upsert(t, store, panel.ID, models.Identity{ExternalID: "u0", Email: "ann@example.com"})
	require.NoError(t, err)

	// The other transaction creates u2 and stays open until the batch
	// waits for it.
	var other []models.ContactChange
	xid := make(chan string, 1)
	release := make(chan struct{})
	otherDone := make(chan error, 1)
	go func() {
		otherDone <- store.InTx(ctx, func(q models.Querier) error {
			var err error
			if other, err = store.UpsertContacts(ctx, q, panel.ID, []models.Identity{{ExternalID: "u2"}}, []map[string]any{nil}); err != nil {
				close(xid)
				return err
			}
			var id string
			if err := q.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text`).Scan(&id); err != nil {
				close(xid)
				return err
			}
			xid <- id
			<-release
			return nil
		})
	}()
	otherXID, ok := <-xid
	if !ok {
		t.Fatalf("the other transaction failed: %v", <-otherDone)
	}

	batchDone := make(chan error, 1)
	var changes []models.ContactChange
	go func() {
		var err error
		changes, err = upsert(t, store, panel.ID,
			models.Identity{ExternalID: "u1", Email: "ann@example.com"}, // ann: u1 is nobody at its turn
			models.Identity{ExternalID: "u1"},                           // new, created in the first round
			models.Identity{ExternalID: "u2", Phone: "+100"})            // the other transaction's contact
		batchDone <- err
	}()
	require.Eventually(t, func() bool {
		var waiting int
		err := store.DBForTest().Raw(`SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid'
			AND transactionid = ?::xid AND NOT granted`, otherXID).Scan(&waiting).Error
		return err == nil && waiting > 0
	}, 10*time.Second, 5*time.Millisecond, "the batch's insert waits for the other transaction")
	close(release)
	require.NoError(t, <-otherDone)
	require.NoError(t, <-batchDone)

	require.Equal(t, ann[0].Contact.ID, changes[0].Contact.ID, "not the contact created for the input after it")
	require.NotEqual(t, ann[0].Contact.ID, changes[1].Contact.ID)
	require.Nil(t, changes[1].Before, "created by the batch")
	require.Equal(t, other[0].Contact.ID, changes[2].Contact.ID, "the other transaction's contact")
	got, err := store.ContactByID(ctx, panel.ID, other[0].Contact.ID)
	require.NoError(t, err)
	require.Equal(t, "+100", *got.Phone, "filled by the batch")
}
