// Package modeltest gives integration tests their own real PostgreSQL
// database and Redis namespace, so tests run in parallel without seeing each
// other's rows or keys.
//
// A template database is migrated once per migration set (its name carries a
// hash of the migration files) and every test clones it, which costs a
// fraction of running the migrations again.
package modeltest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the admin connection
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/models"
)

// AdminURL is the maintenance database tests create their databases from;
// HERALD_TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("HERALD_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis tests use; HERALD_TEST_REDIS_URL overrides it.
func RedisURL() string {
	if u := os.Getenv("HERALD_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// DB returns a fresh, migrated database for this test and its URL. The
// database is dropped when the test ends.
func DB(t testing.TB) (*gorm.DB, string) {
	t.Helper()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(context.Background()) })
	if templateErr != nil {
		t.Fatalf("modeltest: template database: %v", templateErr)
	}
	admin, err := sql.Open("pgx", AdminURL())
	if err != nil {
		t.Fatalf("modeltest: %v", err)
	}
	defer func() { _ = admin.Close() }() // the clone has succeeded or failed by then
	name := "herald_t_" + RandomID()
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		t.Fatalf("modeltest: clone template: %v", err)
	}
	dbURL := withDatabase(AdminURL(), name)
	db, err := models.Open(context.Background(), models.DBConfig{URL: dbURL, MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("modeltest: %v", err)
	}
	t.Cleanup(func() {
		_ = models.Close(db)
		admin, err := sql.Open("pgx", AdminURL())
		if err != nil {
			return
		}
		defer func() { _ = admin.Close() }()
		_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return db, dbURL
}

// TestKey is the HERALD_SECRET_KEY of every test store.
var TestKey = []byte("0123456789abcdef0123456789abcdef")

// Store returns a Store on a fresh database.
func Store(t testing.TB) *models.Store {
	t.Helper()
	db, _ := DB(t)
	c, err := models.NewCipher(TestKey)
	if err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db, c)
	s.PasswordCost = bcrypt.MinCost // the default cost takes a second a hash under -race
	return s
}

// Namespace returns a Redis key prefix and queue name unique to this test.
func Namespace(t testing.TB) string {
	t.Helper()
	return "herald_t_" + RandomID()
}

// RandomID is 12 random hex characters.
func RandomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ensureTemplate builds the template database for the current migrations
// unless it exists. Templates of other migration sets are left alone:
// another checkout (a branch) may be testing with them right now. A session advisory lock serialises test processes (go
// test runs packages in parallel) so only one builds it.
func ensureTemplate(ctx context.Context) (string, error) {
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "herald_tpl_" + sum[:12]
	admin, err := sql.Open("pgx", AdminURL())
	if err != nil {
		return "", err
	}
	// Closing the pool ends the session, which releases the advisory lock
	// below even if its unlock failed: none of these errors matter.
	defer func() { _ = admin.Close() }()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redact(AdminURL()), err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('herald test template'))`); err != nil {
		return "", err
	}
	defer func() { _, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext('herald test template'))`) }()

	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	// Build under a temporary name and rename when complete, so a crash
	// mid-migration never leaves a half-built template behind.
	build := name + "_build"
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, build)); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, build)); err != nil {
		return "", err
	}
	db, err := models.Open(ctx, models.DBConfig{URL: withDatabase(AdminURL(), build), MaxOpenConns: 2})
	if err != nil {
		return "", err
	}
	_, err = models.Migrate(ctx, db)
	_ = models.Close(db)
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, build, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(models.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(models.Migrations(), n)
		if err != nil {
			return "", err
		}
		_, _ = fmt.Fprintf(h, "%s\x00%s\x00", n, b) // a hash.Hash's Write never fails
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the test database"
	}
	return strings.Replace(u.Redacted(), "xxxxx", "***", 1)
}
