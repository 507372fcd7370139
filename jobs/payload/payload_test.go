package payload

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashPIITable(t *testing.T) {
	t.Parallel()
	in := map[string]any{
		"email": "  Ann@Example.COM ", "Mobile": "+1 (555) 010-9999", "phone": "98450 12345",
		"foreignkey": "ann@example.com", "name": "Ann", "count": json.Number("3"),
		"nested": map[string]any{"E-Mail": "x@y.org", "list": []any{"b@c.io", "not an email"}},
		"msisdn": json.Number("919800000000"), "mobile_number": json.Number("42"), "MOBILE": 919800000001.0,
	}
	in = HashPII(in).(map[string]any)
	require.Equal(t, hashValue("ann@example.com"), in["email"])
	require.Equal(t, hashValue("ann@example.com"), in["foreignkey"])
	require.Equal(t, hashValue("+15550109999"), in["Mobile"])
	require.Equal(t, hashValue("9845012345"), in["phone"])
	require.Equal(t, "Ann", in["name"])
	require.Equal(t, json.Number("3"), in["count"])
	nested := in["nested"].(map[string]any)
	require.Equal(t, hashValue("x@y.org"), nested["E-Mail"])
	require.Equal(t, []any{hashValue("b@c.io"), "not an email"}, nested["list"])
	require.Len(t, in["email"], 64)
	require.Equal(t, hashValue("919800000000"), in["msisdn"], "a phone sent as a number")
	require.Equal(t, hashValue("919800000001"), in["MOBILE"])
	require.Equal(t, json.Number("42"), in["mobile_number"], "not a phone key")
}

// Every value held under a PII key is hashed, in a list or an object
// too: "phone": ["+1 555"] went out in clear.
func TestHashPIIListsAndObjectsUnderAKey(t *testing.T) {
	t.Parallel()
	item := HashPIIMap(map[string]any{
		"phone":      []any{"+1 (555) 010-9999", json.Number("919800000000"), 919800000001.0},
		"first_name": []any{" John "},
		"email":      []any{"Not-Quite-An-Address"},
		"mobile":     map[string]any{"home": "+44 20 7946 0000", "email": "a@b.co", "verified": true},
		"tags":       []any{"vip", json.Number("7")},
	})
	require.Equal(t, []any{hashValue("+15550109999"), hashValue("919800000000"), hashValue("919800000001")}, item["phone"])
	require.Equal(t, []any{hashValue("john")}, item["first_name"])
	require.Equal(t, []any{hashValue("not-quite-an-address")}, item["email"])
	require.Equal(t, map[string]any{"home": hashValue("+442079460000"), "email": hashValue("a@b.co"), "verified": true}, item["mobile"])
	require.Equal(t, []any{"vip", json.Number("7")}, item["tags"], "a list under no PII key keeps its values")

	// An e-mail address under a phone key is hashed as an e-mail address:
	// phone digits left nothing of it (found by review).
	odd := HashPIIMap(map[string]any{"mobile": []any{"Ann@Example.com"}, "phone": "Ann@Example.com"})
	require.Equal(t, []any{hashValue("ann@example.com")}, odd["mobile"])
	require.Equal(t, hashValue("ann@example.com"), odd["phone"])
}

// A phone sent as a number hashes as its digits however it is written: a
// receiver hashes 919800000000 from its own records. (Found by review:
// 9.198e11 hashed as "919811", 919800000000.0 with an extra 0.)
func TestHashPIIPhoneNumberForms(t *testing.T) {
	t.Parallel()
	want := hashValue("919800000000")
	for _, v := range []any{"919800000000", 919800000000.0, json.Number("919800000000"),
		json.Number("9.198e11"), json.Number("919800000000.0"), json.Number("9198E8")} {
		require.Equal(t, want, HashPIIMap(map[string]any{"phone": v})["phone"], "phone given as %T %v", v, v)
	}
	// A number no phone can be is hashed from its text's digits (and a huge
	// exponent is not expanded).
	require.Equal(t, hashValue("1999999999"), HashPIIMap(map[string]any{"phone": json.Number("1e999999999")})["phone"])
}

// HashPII hashes a copy: the value it is given, and whatever else shares
// its nested maps and lists (the event, the contact, the journey, other
// items), stay as they were. (In place, a webhook without hash_pii got
// values another webhook had hashed, and a second step hashed them twice.)
func TestHashPIIChangesNothingItIsGiven(t *testing.T) {
	t.Parallel()
	shared := map[string]any{"email": "ann@example.com", "list": []any{"b@c.io"}}
	in := map[string]any{"customer": shared, "phone": "+1 555", "count": json.Number("3")}
	first := HashPII(in).(map[string]any)
	second := HashPII(in).(map[string]any)
	require.Equal(t, map[string]any{"email": "ann@example.com", "list": []any{"b@c.io"}}, shared, "the nested values are untouched")
	require.Equal(t, "+1 555", in["phone"])
	require.Equal(t, first, second, "hashed once, however often")
	require.Equal(t, hashValue("ann@example.com"), first["customer"].(map[string]any)["email"])

	var none map[string]any
	require.Nil(t, HashPIIMap(none), "a missing map stays missing (null, not {})")
	require.Equal(t, "x", HashPII("x"))
}

// Names are hashed as ad platforms match them (trimmed, lower-case), under
// the keys events use and the attribute names alike.
func TestHashPIINames(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"first_name", "FIRSTNAME", "firstName", "last_name", "LASTNAME", "lastName"} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			item := HashPIIMap(map[string]any{"att_params": map[string]any{key: "  John "}, "name": "John"})
			require.Equal(t, hashValue("john"), item["att_params"].(map[string]any)[key])
			require.Equal(t, "John", item["name"], "a key that is not a name field stays")
			require.Contains(t, HashedFields(), strings.ToLower(key))
		})
	}
}

func TestEncodeItem(t *testing.T) {
	t.Parallel()
	b, err := EncodeItem("dlv_X", map[string]any{"delivery_id": "forged", "b": "<&>", "a": 1})
	require.NoError(t, err)
	// The exact bytes are the point (delivery_id first, no HTML escaping),
	// which JSONEq would not see.
	require.Equal(t, `{"delivery_id":"dlv_X","a":1,"b":"<&>"}`, string(b)) //nolint:testifylint // exact bytes, see above
	b, err = EncodeItem("dlv_Y", map[string]any{})
	require.NoError(t, err)
	require.Equal(t, `{"delivery_id":"dlv_Y"}`, string(b)) //nolint:testifylint // exact bytes, see above
}
