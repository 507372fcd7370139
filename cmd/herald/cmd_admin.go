package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/heraldhq/herald/models"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := newFlags("migrate", "Create the database named by HERALD_DATABASE_URL if it does not exist, then apply every pending migration.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, false)
	if err != nil {
		return err
	}
	return migrate(ctx, cfg, newLogger(cfg, stderr))
}

// openStore opens the database for a one-shot admin command. Those commands
// touch no secrets, so they need no HERALD_SECRET_KEY.
func openStore(ctx context.Context, getenv func(string) string) (*models.Store, func(), error) {
	cfg, err := loadConfig(getenv, false)
	if err != nil {
		return nil, nil, err
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return models.NewStore(db, nil), func() { _ = models.Close(db) }, nil
}

// openPanel opens the database and returns the named panel, created if
// needed, for the admin commands that act on one.
func openPanel(ctx context.Context, getenv func(string) string, name string) (*models.Store, *models.Panel, func(), error) {
	store, done, err := openStore(ctx, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := store.EnsurePanel(ctx, name)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return store, p, done, nil
}

func runPanelCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("panel create", "Create a panel (a workspace). Its name is the top-level key of every payload.", stderr)
	name := fs.String("name", "", "panel name: letters, digits, '_', '-', '.' (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return usageErr("panel create needs --name")
	}
	_, p, done, err := openPanel(ctx, getenv, *name)
	if err != nil {
		return err
	}
	defer done()
	_, err = fmt.Fprintln(stdout, p.Name)
	return err
}

var tokenHelp = map[models.TokenKind][2]string{
	models.TokenAdmin:  {"token create", "Create the panel if needed and print a new admin API token alone on standard output.\nThe token is shown only this once; Herald keeps its hash."},
	models.TokenIngest: {"ingest-key create", "Create the panel if needed and print a new ingest key (sk_live_...) alone on standard output,\nfor Authorization: Bearer on POST /v1/webhook/{source}. Shown only this once; Herald keeps its hash."},
}

func runTokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, kind models.TokenKind) error {
	help := tokenHelp[kind]
	fs := newFlags(help[0], help[1], stderr)
	panel := fs.String("panel", "", "panel name (required)")
	label := fs.String("label", "", "a note to tell tokens apart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *panel == "" {
		return usageErr("%s needs --panel", help[0])
	}
	store, p, done, err := openPanel(ctx, getenv, *panel)
	if err != nil {
		return err
	}
	defer done()
	token, _, err := store.CreateToken(ctx, p.ID, kind, *label)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

func runUserCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("user create", "Create a web UI user, or set the password of an existing one, and add them to the panel\n"+
		"(created if needed). Prints the user's e-mail address. Passwords are kept as bcrypt hashes;\n"+
		"setting a new one signs the user out everywhere.", stderr)
	panel := fs.String("panel", "", "panel name (required)")
	email := fs.String("email", "", "the user's e-mail address, their sign-in name (required)")
	password := fs.String("password", "", fmt.Sprintf("password, %d to %d characters (required)", models.MinPasswordLength, models.MaxPasswordLength))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *panel == "" || *email == "" || *password == "" {
		return usageErr("user create needs --panel, --email and --password")
	}
	store, p, done, err := openPanel(ctx, getenv, *panel)
	if err != nil {
		return err
	}
	defer done()
	u, err := store.UserByEmail(ctx, *email)
	switch {
	case errors.Is(err, models.ErrNotFound):
		u, err = store.CreateUser(ctx, *email, *password)
	case err == nil:
		err = store.SetPassword(ctx, u.ID, *password)
	}
	if err != nil {
		return err
	}
	if err := store.AddUserToPanel(ctx, u.ID, p.ID); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, u.Email)
	return err
}
