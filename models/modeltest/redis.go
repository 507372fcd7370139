package modeltest

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RedisServer is a redis-server of one test's own, for tests that flush or
// restart Redis and must not disturb tests running beside them.
type RedisServer struct {
	URL  string
	port int
	t    testing.TB
	cmd  *exec.Cmd
}

// StartRedis starts an empty, memory-only redis-server on a free loopback
// port; it is stopped when the test ends.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("modeltest: redis-server is not installed: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &RedisServer{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), port: port, t: t}
	r.start(path)
	t.Cleanup(r.Stop)
	return r
}

func (r *RedisServer) start(path string) {
	r.cmd = exec.Command(path, "--bind", "127.0.0.1", "--port", strconv.Itoa(r.port),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("modeltest: start redis-server: %v", err)
	}
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port)); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("modeltest: redis-server did not start on port %d", r.port)
}

// Stop kills the server; its data is gone.
func (r *RedisServer) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// Restart stops the server and starts an empty one on the same port.
func (r *RedisServer) Restart() {
	r.Stop()
	path, _ := exec.LookPath("redis-server")
	r.start(path)
}
