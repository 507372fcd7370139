package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heraldhq/herald/bench/internal/rig"
)

// The chaos run restarts its databases, so it brings its own: a throwaway
// PostgreSQL cluster and Redis on free loopback ports, which nobody else
// uses.

// postgres is a private PostgreSQL cluster in a temporary directory.
type postgres struct {
	bin, dir, port string
	asUser         []string // runuser prefix when running as root (initdb refuses root)
}

func startPostgres(ctx context.Context) (*postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "herald-chaos-pg-*")
	if err != nil {
		return nil, err
	}
	port, err := rig.FreePort()
	if err != nil {
		return nil, err
	}
	pg := &postgres{bin: bin, dir: dir, port: strconv.Itoa(port)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, the cluster needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		pg.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	if err := pg.run(ctx, "initdb", "-D", pg.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"); err != nil {
		return nil, err
	}
	return pg, pg.start(ctx)
}

// postgresBin finds PostgreSQL's server programs: pg_config's bindir, or
// the newest /usr/lib/postgresql/*/bin (Debian).
func postgresBin() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); exists(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if exists(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL's initdb not found (install the postgresql package)")
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

func (pg *postgres) data() string { return filepath.Join(pg.dir, "data") }

func (pg *postgres) run(ctx context.Context, prog string, args ...string) error {
	argv := append(slices.Clone(pg.asUser), append([]string{filepath.Join(pg.bin, prog)}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = pg.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, out)
	}
	return nil
}

func (pg *postgres) start(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.data(), "-l", filepath.Join(pg.dir, "server.log"), "-w", "-t", "60",
		"-o", "-p "+pg.port+" -c listen_addresses=127.0.0.1 -k "+pg.dir+" -c max_connections=200", "start")
}

// crash stops the server the way a power cut would (immediate mode: no
// checkpoint; it replays its WAL when it starts again).
func (pg *postgres) crash(ctx context.Context) error {
	return pg.run(ctx, "pg_ctl", "-D", pg.data(), "-m", "immediate", "-w", "stop")
}

func (pg *postgres) url(db string) string {
	return "postgres://postgres@127.0.0.1:" + pg.port + "/" + db + "?sslmode=disable"
}

func (pg *postgres) remove() {
	_ = pg.run(context.Background(), "pg_ctl", "-D", pg.data(), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(pg.dir)
}

// redis is a private Redis that keeps nothing on disk, so a restart
// starts it empty.
type redis struct {
	port string
	cmd  *exec.Cmd
}

func startRedis(ctx context.Context) (*redis, error) {
	port, err := rig.FreePort()
	if err != nil {
		return nil, err
	}
	r := &redis{port: strconv.Itoa(port)}
	return r, r.start(ctx)
}

func (r *redis) start(ctx context.Context) error {
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--maxmemory-policy", "noeviction", "--loglevel", "warning")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("redis-server: %w (install the redis-server package)", err)
	}
	for range 100 {
		if out, err := exec.CommandContext(ctx, "redis-cli", "-p", r.port, "ping").Output(); err == nil && strings.TrimSpace(string(out)) == "PONG" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on port %s did not answer", r.port)
}

// kill ends Redis with SIGKILL; what it held is gone.
func (r *redis) kill() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

func (r *redis) url() string { return "redis://127.0.0.1:" + r.port + "/0" }
