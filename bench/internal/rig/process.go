package rig

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Deployment is one Herald configuration under test: the binary, the
// environment every process of it gets, and the address of its HTTP
// server. Its processes log to one file.
type Deployment struct {
	Bin   string
	Env   []string
	URL   string // the HTTP server of its serve or all process
	Token string // an admin API token of panel "bench", once Setup ran
	Log   *os.File
}

// NewDeployment configures Herald on databaseURL and redisURL, in
// production mode with a fresh secret key, on a free loopback port, with
// loopback allowed through the SSRF guard (the receivers live there) and
// rate limits out of the way. extra entries override the defaults.
func NewDeployment(bin, databaseURL, redisURL, namespace string, extra ...string) (*Deployment, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	log, err := os.CreateTemp("", "herald-"+namespace+"-*.log")
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"HERALD_ENV=production",
		"HERALD_DATABASE_URL="+databaseURL,
		"HERALD_REDIS_URL="+redisURL,
		"HERALD_SECRET_KEY="+base64.StdEncoding.EncodeToString(key),
		"HERALD_METRICS_TOKEN=bench-metrics", // production wants /metrics guarded; the bench reads none
		"HERALD_NAMESPACE="+namespace,
		"HERALD_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"HERALD_EGRESS_ALLOW=127.0.0.1/32",
		"HERALD_ADMIN_RATE_LIMIT=100000000",
		"HERALD_INGEST_RATE_LIMIT=100000000",
		"HERALD_LOG_LEVEL=warn",
	)
	return &Deployment{Bin: bin, Env: append(env, extra...), URL: "http://127.0.0.1:" + strconv.Itoa(port), Log: log}, nil
}

// Setup migrates the database and creates panel "bench" with an admin token.
func (d *Deployment) Setup(ctx context.Context) error {
	if _, err := d.Run(ctx, "migrate"); err != nil {
		return err
	}
	token, err := d.Run(ctx, "token", "create", "--panel", "bench")
	d.Token = token
	return err
}

// Run runs a one-shot herald command and returns its standard output.
func (d *Deployment) Run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.Bin, args...)
	cmd.Env, cmd.Stderr = d.Env, d.Log
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("herald %s: %w (log: %s)", strings.Join(args, " "), err, d.Log.Name())
	}
	return strings.TrimSpace(string(out)), nil
}

// Proc is a running herald process.
type Proc struct {
	Role string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a long-running herald command (all, serve, worker,
// scheduler). The process dies with the program that started it.
func (d *Deployment) Start(ctx context.Context, role string) (*Proc, error) {
	cmd := exec.CommandContext(ctx, d.Bin, role)
	cmd.Env, cmd.Stdout, cmd.Stderr = d.Env, d.Log, d.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Role: role, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// WaitHealthy waits for the deployment's HTTP server to answer /healthz.
func (d *Deployment) WaitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for ctx.Err() == nil {
		resp, err := http.Get(d.URL + "/healthz")
		if err == nil {
			drain(resp.Body)
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("herald did not come up within %v; see %s", within, d.Log.Name())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ctx.Err()
}

// Kill ends the process with SIGKILL, as a crash or the OOM killer would.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop asks the process to shut down (SIGINT) and kills it after 20 s.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.Kill()
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// CPUSeconds is the CPU time (user and system) the process has used so far.
func (p *Proc) CPUSeconds() float64 { return procCPUSeconds(p.cmd.Process.Pid, false) }

// PostgresCPUSeconds is the CPU time used so far by this machine's
// PostgreSQL: every live postgres process's own time, plus what the
// backends that have exited left in their parent's children's time.
func PostgresCPUSeconds() float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total float64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			total += procCPUSeconds(pid, true)
		}
	}
	return total
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// procCPUSeconds reads utime and stime (and, with children, cutime and
// cstime) of a process from /proc/<pid>/stat.
func procCPUSeconds(pid int, children bool) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return statCPUSeconds(raw, children)
}

// statCPUSeconds reads the times out of a /proc/<pid>/stat line.
func statCPUSeconds(raw []byte, children bool) float64 {
	// The command name is in parentheses and may hold spaces: fields
	// count from the last ')'. utime is field 14, so index 11 after it.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 15 {
		return 0
	}
	n := 2
	if children {
		n = 4
	}
	var ticks float64
	for _, f := range fields[11 : 11+n] {
		v, _ := strconv.ParseFloat(f, 64)
		ticks += v
	}
	return ticks / clockTicks
}

// PeakRSS is the process's peak resident memory (VmHWM) in MiB.
func (p *Proc) PeakRSS() float64 { return p.status("VmHWM:") }

// RSS is the process's resident memory now (VmRSS) in MiB.
func (p *Proc) RSS() float64 { return p.status("VmRSS:") }

func (p *Proc) status(field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }() // read-only: Close cannot lose data
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// RecreateDB drops database name (with its connections) and creates it
// empty, through the maintenance database at adminURL. It returns the URL
// of the new database.
func RecreateDB(ctx context.Context, adminURL, name string) (string, error) {
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", err
	}
	defer func() { _ = db.Close() }() // the DROP and CREATE have succeeded or failed by then
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// FreePort returns a loopback TCP port nobody listens on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }() // only its port number was wanted
	return l.Addr().(*net.TCPAddr).Port, nil
}

// drain reads and discards a response body so the connection is reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, r)
	_ = r.Close()
}

// EnvOr returns the environment variable k, or def when it is unset.
func EnvOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
