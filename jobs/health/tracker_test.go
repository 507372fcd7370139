package health_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/app/apptest"
	"github.com/heraldhq/herald/jobs/health"
	"github.com/heraldhq/herald/jobs/mail"
	"github.com/heraldhq/herald/jobs/queue"
	"github.com/heraldhq/herald/models"
	"github.com/heraldhq/herald/models/modeltest"
)

// An alert of one state for one webhook silences the next of that state
// for an hour (models' QueueAlert); the sweep sends what was written and
// never enqueued, through the alert task, in order. (Moved from package
// app: the tracker, the store and a real SMTP server, no HTTP; apptest is
// only the SMTP server.)
func TestAlertThrottle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, enq, log := alertRig(t)
	inspector, ns := enq.Inspector, enq.Namespace
	tracker := &health.Tracker{Store: store, Log: log, Enqueuer: enq}
	smtp := apptest.StartSMTP(t)
	mailer, err := mail.New(smtp.Config)
	require.NoError(t, err)
	alerter := &health.Alerter{Store: store, Enqueuer: tracker.Enqueuer, Mailer: mailer, PublicURL: "http://herald.test", Log: log}

	panel, err := store.EnsurePanel(ctx, "throttle")
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "Quiet Hook", "http://127.0.0.1:9/hook"
	w, err := store.CreateWebhook(ctx, panel.ID, spec)
	require.NoError(t, err)
	for _, email := range []string{"ops@example.com", "marketing@example.com"} {
		_, err := store.AddRecipient(ctx, panel.ID, nil, email)
		require.NoError(t, err)
		agree(t, store, panel.ID)
	}

	first, err := store.QueueAlert(ctx, panel.ID, w.ID, "degraded", map[string]any{"label": "Quiet Hook"})
	require.NoError(t, err)
	require.NotZero(t, first)
	again, err := store.QueueAlert(ctx, panel.ID, w.ID, "degraded", map[string]any{"label": "Quiet Hook"})
	require.NoError(t, err)
	require.Zero(t, again, "a second alert of the same state within the hour is not written")
	other, err := store.QueueAlert(ctx, panel.ID, w.ID, "disabled", map[string]any{"label": "Quiet Hook"})
	require.NoError(t, err)
	require.NotZero(t, other, "another state is another alert")

	// A sweep enqueues what was written (nothing was enqueued here): the
	// webhook's first alert, as its second waits for it. Sending the first
	// brings in the second.
	require.NoError(t, tracker.SweepAlerts(ctx))
	pending := func() []int64 {
		tasks, err := inspector.ListPendingTasks(ns + ":mail")
		require.NoError(t, err)
		var ids []int64
		for _, task := range tasks {
			require.Equal(t, queue.TypeAlert, task.Type)
			id, err := strconv.ParseInt(string(task.Payload), 10, 64)
			require.NoError(t, err)
			ids = append(ids, id)
		}
		return ids
	}
	require.Equal(t, []int64{first}, pending())
	require.NoError(t, alerter.HandleAlert(ctx, asynq.NewTask(queue.TypeAlert, []byte(strconv.FormatInt(first, 10)))))
	require.NoError(t, inspector.DeleteTask(ns+":mail", fmt.Sprintf("alert:%d", first)))
	require.Equal(t, []int64{other}, pending())
	require.NoError(t, alerter.HandleAlert(ctx, asynq.NewTask(queue.TypeAlert, []byte(strconv.FormatInt(other, 10)))))
	mails := smtp.WaitFor(t, 10*time.Second, 2)
	require.Contains(t, mails[0].Subject, "Quiet Hook")
	require.Contains(t, mails[1].Subject, "Quiet Hook")
}

// While HERALD_SMTP_URL is unset, an alert's tasks count no attempt: once
// SMTP is set, the first real failure is retried within seconds. (Found by
// review: nine tasks while unset counted nine attempts, and the first real
// failure waited 5 minutes.)
func TestAlertsWhileSMTPIsUnsetCountNoAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, enq, log := alertRig(t)
	unmailed := &health.Alerter{Store: store, Enqueuer: enq, PublicURL: "http://herald.test", Log: log}

	panel, err := store.EnsurePanel(ctx, "unmailed")
	require.NoError(t, err)
	spec := models.DefaultWebhookSpec()
	spec.Label, spec.URL = "Unmailed", "http://127.0.0.1:9/hook"
	w, err := store.CreateWebhook(ctx, panel.ID, spec)
	require.NoError(t, err)
	_, err = store.AddRecipient(ctx, panel.ID, nil, "ops@example.com")
	require.NoError(t, err)
	agree(t, store, panel.ID)
	id, err := store.QueueAlert(ctx, panel.ID, w.ID, "disabled", map[string]any{"label": "Unmailed"})
	require.NoError(t, err)
	task := asynq.NewTask(queue.TypeAlert, []byte(strconv.FormatInt(id, 10)))
	for range 9 { // nine tasks of it while SMTP is unset
		require.NoError(t, unmailed.HandleAlert(ctx, task))
	}

	smtp := apptest.StartSMTP(t)
	mailer, err := mail.New(smtp.Config)
	require.NoError(t, err)
	smtp.Refuse("ops@example.com") // set, and the first real attempt fails (a passing 550 of a mailbox being moved)
	mailing := &health.Alerter{Store: store, Enqueuer: enq, Mailer: mailer, PublicURL: "http://herald.test", Log: log}
	require.NoError(t, mailing.HandleAlert(ctx, task))
	a, err := store.AlertByID(ctx, id)
	require.NoError(t, err)
	wait := a.NextAttemptAt.Sub(store.Now())
	require.Equal(t, 1, a.Attempts, "one real attempt")
	require.Less(t, wait, 10*time.Second, "the first real failure is retried soon")
}

// alertRig is a store, an enqueuer on the real Redis in a namespace of
// the test's own, and a quiet log.
func alertRig(t *testing.T) (*models.Store, *queue.Enqueuer, *slog.Logger) {
	t.Helper()
	store := modeltest.Store(t)
	redisOpt, err := asynq.ParseRedisURI(modeltest.RedisURL())
	require.NoError(t, err)
	client, inspector := asynq.NewClient(redisOpt), asynq.NewInspector(redisOpt)
	t.Cleanup(func() { _ = client.Close(); _ = inspector.Close() })
	enq := &queue.Enqueuer{Client: client, Inspector: inspector, Namespace: modeltest.Namespace(t), Now: store.Now}
	return store, enq, slog.New(slog.DiscardHandler)
}

// agree records the yes of the owners of the panel's alert recipients, as
// their links would (models.ConfirmRecipient).
func agree(t *testing.T, store *models.Store, panelID int64) {
	t.Helper()
	require.NoError(t, store.DBForTest().Exec(`UPDATE alert_recipients SET confirmed_at = now() WHERE panel_id = ?`, panelID).Error)
}
