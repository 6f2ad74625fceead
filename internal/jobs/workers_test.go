package jobs_test

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/jobs"
)

// The jobs that drain a conversation's queue stream media, so they get far
// more than River's default timeout.
func TestQueueWorkersHaveRoomForMedia(t *testing.T) {
	t.Parallel()
	require.Equal(t, 15*time.Minute, (&jobs.DeliverInboundWorker{}).Timeout(&river.Job[bridge.DeliverInboundArgs]{}))
	require.Equal(t, 15*time.Minute, (&jobs.SendOutboundWorker{}).Timeout(&river.Job[bridge.SendOutboundArgs]{}))
}
