package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

func TestUserCreate(t *testing.T) {
	t.Parallel()
	db, dbURL := modeltest.DB(t)
	store := models.NewStore(db, nil)
	ctx := context.Background()
	user := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"user", "create"}, args...), env(map[string]string{"HERALD_DATABASE_URL": dbURL}), &out, &errOut)
		return out.String(), err
	}

	out, err := user("--panel", "acme_prod", "--email", " Ana@Example.com", "--password", "first-password")
	require.NoError(t, err)
	require.Equal(t, "ana@example.com\n", out, "the address as Herald keeps it, alone")
	u, err := store.CheckPassword(ctx, "ana@example.com", "first-password")
	require.NoError(t, err)

	// Again, for a second panel and with a new password: the same user,
	// in both panels, with the new password only.
	out, err = user("--panel", "acme_test", "--email", "ana@example.com", "--password", "second-password")
	require.NoError(t, err)
	require.Equal(t, "ana@example.com\n", out)
	panels, err := store.UserPanels(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, panels, 2)
	_, err = store.CheckPassword(ctx, "ana@example.com", "first-password")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = store.CheckPassword(ctx, "ana@example.com", "second-password")
	require.NoError(t, err)

	_, err = user("--panel", "acme_prod", "--email", "bo@example.com", "--password", "short")
	var ve *models.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "password", ve.Field)
	_, err = user("--panel", "acme_prod", "--email", "not-an-address", "--password", "long-enough-1")
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "email", ve.Field)
	_, err = user("--panel", "acme_prod", "--email", "bo@example.com")
	require.ErrorIs(t, err, errUsage)
}
