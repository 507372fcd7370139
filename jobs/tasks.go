// Package jobs is everything Herald runs off the request path: the outbound
// client and sender, asynq task types and handlers, and the periodic jobs.
package jobs

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
