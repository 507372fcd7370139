// Package queue is how work is handed to the workers: the asynq task types
// and queues, their payloads, and the Enqueuer that the HTTP handlers and
// the domain packages (delivery, journey, health) call. It is a leaf: it
// knows the task types but not their handlers, which package jobs routes
// to the domain packages, so any of them can enqueue without a cycle.
package queue

// Queue names are prefixed with the namespace so several Herald deployments
// (or parallel tests) can share one Redis.
const (
	queueDeliver = "deliver"
	queueJourney = "journey"
	queueMail    = "mail"
)

// Queues returns the asynq queues of a namespace with their priorities:
// deliveries first, then journey timers, then alert mail.
func Queues(namespace string) map[string]int {
	return map[string]int{
		namespace + ":" + queueDeliver: 6,
		namespace + ":" + queueJourney: 3,
		namespace + ":" + queueMail:    1,
	}
}
