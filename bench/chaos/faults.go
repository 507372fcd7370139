package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/heraldhq/herald/bench/internal/rig"
)

// fleet is the Herald processes of the run.
type fleet struct {
	d     *rig.Deployment
	mu    sync.Mutex
	procs []*rig.Proc
}

func (f *fleet) start(ctx context.Context, role string) error {
	p, err := f.d.Start(ctx, role)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.procs = append(f.procs, p)
	f.mu.Unlock()
	return nil
}

// kill ends the n-th process of role with SIGKILL and starts a new one
// after down, as a supervisor would.
func (f *fleet) kill(ctx context.Context, role string, n int, down time.Duration) error {
	f.mu.Lock()
	var victim *rig.Proc
	i := -1
	for j, p := range f.procs {
		if p.Role == role {
			if i++; i == n {
				victim = p
				f.procs = append(f.procs[:j], f.procs[j+1:]...)
				break
			}
		}
	}
	f.mu.Unlock()
	if victim == nil {
		return fmt.Errorf("no %s number %d", role, n)
	}
	victim.Kill()
	time.Sleep(down)
	return f.start(ctx, role)
}

// ensure restarts any process that has exited on its own (a worker that
// gave up while PostgreSQL was down, say), so the drain has a full fleet.
func (f *fleet) ensure(ctx context.Context) error {
	f.mu.Lock()
	var dead []string
	live := f.procs[:0]
	for _, p := range f.procs {
		if p.Exited() {
			dead = append(dead, p.Role)
			continue
		}
		live = append(live, p)
	}
	f.procs = live
	f.mu.Unlock()
	for _, role := range dead {
		step("a %s had exited; starting another", role)
		if err := f.start(ctx, role); err != nil {
			return err
		}
	}
	return nil
}

func (f *fleet) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.procs {
		p.Stop()
	}
}

// fault is one thing that goes wrong, at a fraction of the load's duration.
type fault struct {
	at   float64
	name string
	do   func(ctx context.Context) error
}

// schedule is the run's faults, in order. Each leaves things as it found
// them (a process killed is restarted, a server comes back) so the next
// one starts from a working system.
func schedule(fl *fleet, pg *postgres, rd *redis, recv *rig.Receiver, dur time.Duration) []fault {
	killWorker := func(n int) func(context.Context) error {
		return func(ctx context.Context) error { return fl.kill(ctx, "worker", n, 2*time.Second) }
	}
	phase := time.Duration(0.08 * float64(dur))
	return []fault{
		{0.10, "SIGKILL worker 1; a new one starts 2 s later", killWorker(0)},
		{0.20, "SIGKILL worker 2; a new one starts 2 s later", killWorker(1)},
		{0.30, "PostgreSQL crashes (immediate stop) and restarts 3 s later", func(ctx context.Context) error {
			if err := pg.crash(ctx); err != nil {
				return err
			}
			time.Sleep(3 * time.Second)
			return pg.start(ctx)
		}},
		{0.40, "SIGKILL the scheduler; a new one starts 2 s later", func(ctx context.Context) error {
			return fl.kill(ctx, "scheduler", 0, 2*time.Second)
		}},
		{0.50, "Redis killed and restarted empty (every queued task lost)", func(ctx context.Context) error {
			rd.kill()
			time.Sleep(time.Second)
			return rd.start(ctx)
		}},
		{0.60, fmt.Sprintf("the receiver answers 500 for %v", phase), func(ctx context.Context) error {
			recv.SetStatus(http.StatusInternalServerError)
			time.Sleep(phase)
			recv.SetStatus(0)
			return nil
		}},
		{0.72, fmt.Sprintf("the receiver takes the batches but answers after Herald's %v timeout, for %v", httpLimit, phase), func(ctx context.Context) error {
			recv.SetDelay(3 * httpLimit)
			time.Sleep(phase)
			recv.SetDelay(0)
			return nil
		}},
		{0.85, "SIGKILL worker 1 and worker 2 at once (a worker in the middle of a request dies with it)", func(ctx context.Context) error {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range 2 {
				wg.Go(func() { errs[i] = fl.kill(ctx, "worker", 0, 2*time.Second) })
			}
			wg.Wait()
			return errors.Join(errs...)
		}},
	}
}
