package journey

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
)

func TestMemberChecksIdentifiers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", models.MaxIdentifierBytes+1)
	for _, tc := range []struct {
		name  string
		in    MemberInput
		field string // the refused field, "" when accepted
	}{
		{"an external id", MemberInput{ExternalID: "u-1"}, ""},
		{"no one", MemberInput{}, "members[2]."},
		{"an external id too long to index", MemberInput{ExternalID: long}, "members[2].external_id"},
		{"an e-mail too long", MemberInput{Email: long + "@example.com"}, "members[2].email"},
		{"a phone too long", MemberInput{Phone: strings.Repeat("1", models.MaxIdentifierBytes+1)}, "members[2].phone"},
		{"not an e-mail", MemberInput{Email: "ann"}, "members[2].email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.in.Member("members[2].")
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *models.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.field, ve.Field)
		})
	}
}
