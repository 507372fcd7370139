// Package jobs wires Herald's background work; the work itself lives in
// the domain packages below it. Two files are the task list:
//   - worker.go: the asynq server, and which domain handler runs each task
//     type of package queue (deliver:flush → delivery, journey:timer and
//     journey:ingest → journey, mail:alert → health);
//   - scheduler.go: the periodic jobs on gocron, run by one leader
//     (elector.go), among them the reconciler (reconcile.go) that
//     re-enqueues flushes Redis lost.
//
// Dependencies point one way: cmd → app → jobs → the domain packages
// (delivery, journey, health) → the leaves (egress, queue, metrics,
// payload, ratelimit, mail) → models. No package below imports jobs.
package jobs
