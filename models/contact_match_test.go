package models

import (
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func contactOf(id int64, ext, email, phone string) *Contact {
	c := &Contact{ID: id, Attributes: map[string]any{}}
	for _, f := range []struct {
		dst **string
		v   string
	}{{&c.ExternalID, ext}, {&c.Email, email}, {&c.Phone, phone}} {
		if f.v != "" {
			v := f.v
			*f.dst = &v
		}
	}
	return c
}

// An identity is given the first contact, in id order, with its external
// id, else the first with its e-mail, else the first with its phone.
func TestContactIndexMatchesByExternalIDThenEmailThenPhone(t *testing.T) {
	t.Parallel()
	found := []*Contact{
		contactOf(1, "", "ann@example.com", "+100"),
		contactOf(2, "ann", "", ""),
		contactOf(3, "", "bob@example.com", ""),
		contactOf(4, "", "ann@example.com", "+200"), // e-mail also held by 1, which comes first
		contactOf(5, "", "", "+100"),                // phone also held by 1
	}
	for _, tc := range []struct {
		name string
		id   Identity
		want int64 // 0: none
	}{
		{"external id over e-mail", Identity{ExternalID: "ann", Email: "ann@example.com"}, 2},
		{"external id over phone", Identity{ExternalID: "ann", Phone: "+100"}, 2},
		{"unknown external id falls back to e-mail", Identity{ExternalID: "zed", Email: "bob@example.com"}, 3},
		{"e-mail over phone", Identity{Email: "bob@example.com", Phone: "+200"}, 3},
		{"the first contact with the e-mail", Identity{Email: "ann@example.com"}, 1},
		{"the first contact with the phone", Identity{Phone: "+100"}, 1},
		{"phone alone", Identity{Phone: "+200"}, 4},
		{"nobody", Identity{ExternalID: "zed", Email: "zed@example.com", Phone: "+999"}, 0},
		{"empty names nobody", Identity{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := indexContacts(found).match(tc.id)
			if tc.want == 0 {
				require.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			require.Equal(t, tc.want, got.ID)
		})
	}
}

// A contact gains the identifiers it lacks that no other contact holds,
// and is found by them for the inputs after.
func TestContactIndexFillsOnlyFreeIdentifiers(t *testing.T) {
	t.Parallel()
	ann, held, bob := contactOf(1, "ann", "", ""), contactOf(2, "", "ann@example.com", ""), contactOf(3, "bob", "", "")
	x := indexContacts([]*Contact{ann, held, bob})

	require.False(t, x.fill(ann, Identity{ExternalID: "ann", Email: "ann@example.com"}), "another contact holds the e-mail")
	require.Nil(t, ann.Email)
	require.Equal(t, int64(2), x.match(Identity{Email: "ann@example.com"}).ID)

	require.True(t, x.fill(bob, Identity{ExternalID: "bob", Email: "bob@example.com"}))
	require.Equal(t, "bob@example.com", *bob.Email)
	require.Equal(t, int64(3), x.match(Identity{Email: "bob@example.com"}).ID, "found by what it gained")

	require.True(t, x.fill(ann, Identity{ExternalID: "ann", Phone: "+1"}))
	require.False(t, x.fill(bob, Identity{ExternalID: "bob", Phone: "+1"}), "taken meanwhile")
	require.Nil(t, bob.Phone)
	require.Equal(t, int64(1), x.match(Identity{Phone: "+1"}).ID)

	require.False(t, x.fill(bob, Identity{ExternalID: "bob", Email: "other@example.com"}), "none is replaced")
	require.Equal(t, "bob@example.com", *bob.Email)
}

func TestIdentifiersOfListsEachOnceInOrder(t *testing.T) {
	t.Parallel()
	ext, emails, phones := identifiersOf([]Identity{
		{ExternalID: "b", Email: "x@example.com"}, {ExternalID: "a"}, {ExternalID: "b", Phone: "+1"},
		{Email: "x@example.com", Phone: "+1"}, {ExternalID: "+1"}, // the same text as another kind's is its own
	})
	require.Equal(t, []string{"b", "a", "+1"}, ext)
	require.Equal(t, []string{"x@example.com"}, emails)
	require.Equal(t, []string{"+1"}, phones)
}

func TestJSONEqualComparesAsEncoded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{"a", "a", true}, {"a", "b", false}, {"1", 1.0, false},
		{1.0, 1.0, true}, {1.0, 2.0, false}, {0.0, math.Copysign(0, -1), false},
		{true, true, true}, {true, false, false}, {nil, nil, true}, {nil, false, false},
		{[]any{1.0, "a"}, []any{1.0, "a"}, true}, {[]any{1.0}, []any{2.0}, false},
		{map[string]any{"k": 1.0}, map[string]any{"k": 1.0}, true}, {map[string]any{"k": 1.0}, "k", false},
	} {
		require.Equal(t, tc.want, jsonEqual(tc.a, tc.b), "%#v vs %#v", tc.a, tc.b)
	}
}

// matchInOrder gives each input the contact processing the inputs one at a
// time would: a new contact exists from the input that needs it on.
func TestMatchInOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		found []*Contact
		ids   []Identity
		want  []int64 // a contact's id, or -(i+1): the new contact made for input i
	}{
		{"known, then new by an identifier the first saw nobody hold",
			[]*Contact{contactOf(1, "u0", "ann@example.com", "")},
			[]Identity{{ExternalID: "u1", Email: "ann@example.com"}, {ExternalID: "u1"}},
			[]int64{1, -2}},
		{"the first of two new inputs creates",
			nil,
			[]Identity{{ExternalID: "zed", Phone: "+1"}, {ExternalID: "amy", Phone: "+1"}},
			[]int64{-1, -1}},
		{"a new contact is filled and found by what it gained",
			nil,
			[]Identity{{ExternalID: "kim"}, {ExternalID: "kim", Email: "kim@example.com"}, {Email: "kim@example.com"}},
			[]int64{-1, -1, -1}},
		{"a known contact first, whoever comes later",
			[]*Contact{contactOf(4, "", "", "+1")},
			[]Identity{{ExternalID: "zed"}, {ExternalID: "amy", Phone: "+1"}, {ExternalID: "zed", Phone: "+2"}},
			[]int64{-1, 4, -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := matchInOrder(tc.found, tc.ids)
			got := make([]int64, len(tc.ids))
			for i, c := range m.contacts {
				got[i] = c.ID
				if c.ID == 0 {
					require.Contains(t, m.fresh, c, "input %d: a new contact not listed as fresh", i)
					got[i] = -int64(slices.Index(m.contacts, c) + 1)
				}
			}
			require.Equal(t, tc.want, got)
			require.Len(t, m.fresh, len(slices.Compact(slices.Sorted(slices.Values(negatives(got))))))
		})
	}
}

func negatives(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id < 0 {
			out = append(out, id)
		}
	}
	return out
}
