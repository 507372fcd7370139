// Package delivery sends webhook batches. The deliver:flush task
// (deliver.go) claims a batch from the outbox, sends it and records what
// became of each row; beside it are the request itself (send.go, signed as
// Standard Webhooks asks in sign.go), body building (batch.go), the retry
// decision (retry.go), a panel's share of a worker's slots
// (panel_share.go), the sample batch the "Test" button sends (sample.go)
// and the automatic probes of disabled webhooks (probe.go). Service
// (service.go) is what the admin API and the UI both do to a webhook and
// its outbox: test, activate, replay, create deliveries and flush.
//
// The decisions (BuildBody, RetryPolicy.Decide, Sign) are pure functions;
// requests go out through package egress, and each outcome moves the
// webhook's health through package health.
package delivery
