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
// half a minute per case. PostgreSQL is not restarted here (it is
// the shared test server); `make soak` does that on a private cluster. With
// two replicas the webhooks are spread over both and each is killed once
// while the other carries the load.
func TestShortSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak takes over a minute")
	}
	for _, replicas := range []int{1, 2} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			o := soakOpts{
				env: envOpts{
					databaseURL: testdb.ServerURL(), dbName: fmt.Sprintf("relaydesk_short_soak_%d_%d", os.Getpid(), replicas),
					relaydeskBin: "self", workers: 20, dbConns: 10, conversations: 40, faults: true, replicas: replicas,
				},
				duration: 15 * time.Second, rate: 40, concurrency: 10, kills: replicas, drainTimeout: 150 * time.Second,
			}
			rep, err := runSoak(context.Background(), o, &logs)
			require.NoError(t, err, logs.String())
			var out bytes.Buffer
			rep.print(&out)
			t.Log(out.String())
			require.Equal(t, replicas, rep.Settings["replicas"], "replicas started")
			require.Equal(t, replicas, rep.Restarts, "every replica was killed once and came back")
			require.Positive(t, rep.Load.Messages)
			require.Positive(t, rep.Load.Replies, "agents answered during the soak")
			require.NotEmpty(t, rep.ZendeskFaults, "the helpdesk misbehaved")
			require.True(t, rep.Drained, "everything arrived:\n%s\n%s", out.String(), logs.String())
			require.True(t, rep.Verification.OK, "nothing lost, duplicated, reordered or stuck:\n%s", out.String())
		})
	}
}
