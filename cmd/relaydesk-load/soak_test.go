package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/testdb"
)

// TestMain lets the test binary act as relaydesk (-relaydesk-bin self), so
// the soak kills a real separate process without building one.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve-relaydesk" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := serveRelaydesk(ctx)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestShortSoak is the soak in small: steady load while relaydesk is killed
// with SIGKILL and restarted, Zendesk answers 500, 429, slowly or resets the
// connection, and Graph reports throughput and pair-rate limits; then
// nothing may be lost, duplicated, reordered or left pending. It takes about
// a minute and a half: work held by the killed process waits for its
// conversation's one-minute lease. PostgreSQL is not restarted here (it is
// the shared test server); `make soak` does that on a private cluster.
func TestShortSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak takes over a minute")
	}
	t.Parallel()
	var logs bytes.Buffer
	o := soakOpts{
		env: envOpts{
			databaseURL: testdb.ServerURL(), dbName: fmt.Sprintf("relaydesk_short_soak_%d", os.Getpid()),
			relaydeskBin: "self", workers: 20, dbConns: 10, conversations: 40, faults: true,
		},
		duration: 15 * time.Second, rate: 40, concurrency: 10, kills: 1, drainTimeout: 150 * time.Second,
	}
	rep, err := runSoak(context.Background(), o, &logs)
	require.NoError(t, err, logs.String())
	var out bytes.Buffer
	rep.print(&out)
	t.Log(out.String())
	require.Equal(t, 1, rep.Restarts, "relaydesk was killed and came back")
	require.Positive(t, rep.Load.Messages)
	require.Positive(t, rep.Load.Replies, "agents answered during the soak")
	require.NotEmpty(t, rep.ZendeskFaults, "the helpdesk misbehaved")
	require.True(t, rep.Drained, "everything arrived:\n%s\n%s", out.String(), logs.String())
	require.True(t, rep.Verification.OK, "nothing lost, duplicated, reordered or stuck:\n%s", out.String())
}
