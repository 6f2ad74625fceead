package e2e

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// sweepHarness is a harness whose workers are stopped after the customer
// wrote once: the delivery job is stored, and the test breaks it by hand.
func sweepHarness(t *testing.T) (*harness, func(sql string)) {
	t.Helper()
	h := newHarness(t, harnessOpts{})
	h.killWorkers() // nothing works jobs while we break things
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Text(customer, "lost?"))
	exec := func(sql string) {
		t.Helper()
		_, err := h.pool.Exec(context.Background(), sql)
		require.NoError(t, err)
	}
	return h, exec
}

// deliveredOnce waits until the customer's one message is on its ticket.
func (h *harness) deliveredOnce(msg string) {
	h.t.Helper()
	h.eventually(func() bool {
		ts := h.zd.Tickets()
		return len(ts) == 1 && len(h.publicComments(ts[0].ID)) == 1
	}, msg)
}

func TestSweepRecoversACancelledJob(t *testing.T) {
	t.Parallel()
	h, exec := sweepHarness(t)
	// An operator cancels the delivery job from the jobs page.
	exec(`UPDATE river_job SET state = 'cancelled', finalized_at = now() WHERE kind = 'deliver_inbound'`)
	h.startWorkers()

	n, err := h.bridge.Sweep(context.Background(), 0)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	h.deliveredOnce("delivered after the sweep")
}

// A process killed after River marked its job running but before the job
// claimed its conversation leaves the job 'running' (rescued only after
// RescueStuckJobsAfter) and the conversation queued, so new messages
// enqueue nothing. The sweep re-queues such a conversation, and only such
// a one: a job that merely waits (backoff, snooze) or that a live worker
// just started is left to run.
func TestSweepRecoversAnOrphanedJob(t *testing.T) {
	t.Parallel()
	h, exec := sweepHarness(t)
	require.Equal(t, 1, h.count(`SELECT count(*) FROM conversations WHERE inbound_queued`), "the conversation is queued")
	sweep := func() int {
		t.Helper()
		n, err := h.bridge.Sweep(context.Background(), jobs.SweepEvery)
		require.NoError(t, err)
		return n
	}
	exec(`UPDATE messages SET updated_at = now() - interval '1 minute'`)

	for name, job := range map[string]string{
		"waits to run":                    `state = 'available'`,
		"waits in backoff":                `state = 'retryable', scheduled_at = now() + interval '1 hour'`,
		"is snoozed":                      `state = 'scheduled', scheduled_at = now() + interval '1 hour'`,
		"a worker started 10 seconds ago": `state = 'running', attempt = 1, attempted_at = now() - interval '10 seconds'`,
		"a worker started 20 seconds ago": `state = 'running', attempt = 1, attempted_at = now() - interval '20 seconds'`,
	} {
		exec(`UPDATE river_job SET ` + job + ` WHERE kind = 'deliver_inbound'`)
		require.Zero(t, sweep(), "a job that %s is left alone", name)
	}

	// The orphan: running since two minutes, no lease taken.
	exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '2 minutes' WHERE kind = 'deliver_inbound'`)
	exec(`UPDATE conversations SET inbound_lease_until = now() + interval '1 minute'`)
	require.Zero(t, sweep(), "a held lease means a worker is on the conversation")
	exec(`UPDATE conversations SET inbound_lease_until = now() - interval '1 minute'`)
	exec(`UPDATE messages SET updated_at = now() - interval '10 seconds'`)
	require.Zero(t, sweep(), "messages younger than the sweep's age wait")
	exec(`UPDATE messages SET updated_at = now() - interval '1 minute'`)
	require.Equal(t, 1, sweep(), "the orphan's conversation is queued again")
	require.Zero(t, sweep(), "the new job is live: no second one")

	h.startWorkers()
	h.deliveredOnce("delivered by the swept job")
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound' AND state = 'completed'`) == 1
	}, "the swept job completes")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound' AND state = 'running'
		AND attempted_at < now() - interval '1 minute'`), "the orphan is still running: the swept job delivered")

	// River rescues the orphan later: it finds nothing left to do.
	exec(`UPDATE river_job SET state = 'available', scheduled_at = now() WHERE kind = 'deliver_inbound' AND state = 'running'`)
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound' AND state <> 'completed'`) == 0
	}, "the rescued orphan completes")
	require.Len(t, h.publicComments(h.zd.Tickets()[0].ID), 1, "nothing is posted twice")
	h.eventually(func() bool { return h.count(`SELECT count(*) FROM messages WHERE state <> 'done'`) == 0 }, "every message recorded as done: %s", h.failures())
}
