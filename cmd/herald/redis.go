package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// redisSettings is a parsed HERALD_REDIS_URL:
//
//	redis://[user:pass@]host:port/db, rediss://… (TLS)
//	redis-sentinel://[user:pass@]host1:port,host2:port/db?master=NAME[&sentinel_password=…]
//
// With Sentinel both of Herald's clients follow the master through
// failovers.
type redisSettings struct {
	plain    *redis.Options
	failover *redis.FailoverOptions
}

func parseRedisURL(raw string) (redisSettings, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return redisSettings{}, err
	}
	if u.Scheme != "redis-sentinel" {
		opt, err := redis.ParseURL(raw)
		return redisSettings{plain: opt}, err
	}
	master := u.Query().Get("master")
	if master == "" {
		return redisSettings{}, fmt.Errorf("a redis-sentinel URL needs ?master=<name>")
	}
	addrs := strings.Split(u.Host, ",")
	for _, a := range addrs {
		if !strings.Contains(a, ":") {
			return redisSettings{}, fmt.Errorf("sentinel %q has no port", a)
		}
	}
	db := 0
	if p := strings.Trim(u.Path, "/"); p != "" {
		if db, err = strconv.Atoi(p); err != nil {
			return redisSettings{}, fmt.Errorf("%q is not a database number", p)
		}
	}
	pass, _ := u.User.Password()
	return redisSettings{failover: &redis.FailoverOptions{MasterName: master, SentinelAddrs: addrs,
		SentinelPassword: u.Query().Get("sentinel_password"), Username: u.User.Username(), Password: pass, DB: db}}, nil
}

// clients builds asynq's connection options and the go-redis client (rate
// limits) from the same settings.
func (s redisSettings) clients() (asynq.RedisConnOpt, redis.UniversalClient) {
	if o := s.failover; o != nil {
		return asynq.RedisFailoverClientOpt{MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
			SentinelPassword: o.SentinelPassword, Username: o.Username, Password: o.Password, DB: o.DB}, redis.NewFailoverClient(o)
	}
	o := s.plain
	return asynq.RedisClientOpt{Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig},
		redis.NewClient(o)
}

// redisLog sends go-redis's own messages (dial failures while Redis
// restarts, say) through slog, so that every log line is JSON.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
