package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating the database
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/heraldhq/herald/jobs/delivery"
	"github.com/heraldhq/herald/jobs/egress"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/jobs/ratelimit"
	"github.com/heraldhq/herald/models"
)

// runtime is what the long-running commands share: one pool, one Redis
// client, one outbound client.
type runtime struct {
	cfg      *config
	log      *slog.Logger
	db       *gorm.DB
	store    *models.Store
	redis    redis.UniversalClient
	asynq    asynq.RedisConnOpt
	sender   *delivery.Sender
	queue    *asynq.Client
	enqueuer *queue.Enqueuer
	limiter  *ratelimit.Limiter
}

func openRuntime(ctx context.Context, cfg *config, log *slog.Logger) (*runtime, error) {
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cipher, err := models.NewCipher(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	settings, err := parseRedisURL(cfg.RedisURL)
	if err != nil {
		return nil, &configError{"HERALD_REDIS_URL", err.Error()}
	}
	asynqOpt, rdb := settings.clients()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = models.Close(db)
		return nil, fmt.Errorf("connect to Redis at %s: %w", redactURL(cfg.RedisURL), err)
	}
	client := asynq.NewClient(asynqOpt)
	store := models.NewStore(db, cipher)
	return &runtime{
		cfg: cfg, log: log, db: db, store: store, redis: rdb, asynq: asynqOpt,
		sender: &delivery.Sender{
			Client:    egress.NewHTTPClient(egress.Config{Allow: cfg.EgressAllow, RequestTimeout: cfg.HTTPTimeout}),
			UserAgent: "Herald/" + version,
			Now:       store.Now,
		},
		queue:    client,
		enqueuer: &queue.Enqueuer{Client: client, Inspector: asynq.NewInspector(asynqOpt), Namespace: cfg.Namespace, Now: store.Now},
		limiter:  &ratelimit.Limiter{Redis: rdb, Namespace: cfg.Namespace},
	}, nil
}

func (r *runtime) Close() {
	_ = r.enqueuer.Inspector.Close()
	_ = r.queue.Close()
	_ = r.redis.Close()
	_ = models.Close(r.db)
}

// openDB connects to PostgreSQL.
func openDB(ctx context.Context, cfg *config) (*gorm.DB, error) {
	db, err := models.Open(ctx, models.DBConfig{URL: cfg.DatabaseURL, MaxOpenConns: cfg.DBMaxConns})
	if err != nil {
		return nil, fmt.Errorf("%w (HERALD_DATABASE_URL=%s)", err, redactURL(cfg.DatabaseURL))
	}
	return db, nil
}

// ensureDatabase creates the database named in the URL when it does not
// exist yet, through the server's maintenance database.
func ensureDatabase(ctx context.Context, dbURL string) (created bool, err error) {
	probe, err := sql.Open("pgx", dbURL)
	if err != nil {
		return false, err
	}
	err = probe.PingContext(ctx)
	_ = probe.Close()
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // 3D000: invalid_catalog_name
		return false, nil // exists, or a problem that opening it will report better
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return false, err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("pgx", u.String())
	if err != nil {
		return false, err
	}
	// The CREATE DATABASE has succeeded or failed by now: a failing Close
	// of this one-off connection changes nothing.
	defer func() { _ = admin.Close() }()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
		return false, fmt.Errorf("create database %q: %w", name, err)
	}
	return true, nil
}

// redactURL hides the password of a connection URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// startupWait is how long a service waits for PostgreSQL and Redis to
// answer when it starts.
const startupWait = time.Minute

// whileUnavailable runs open until it succeeds, fails for a reason other
// than an unreachable database, or startupWait is over: the databases may
// still be starting (a container, a failover, a restart), and a service
// that waits for them comes up on its own instead of needing a supervisor
// to start it again.
func whileUnavailable[T any](ctx context.Context, log *slog.Logger, open func() (T, error)) (T, error) {
	deadline := time.Now().Add(startupWait)
	for {
		v, err := open()
		if err == nil || !models.Unavailable(err) || time.Now().After(deadline) {
			return v, err
		}
		log.Warn("waiting for PostgreSQL and Redis", "error", err)
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
