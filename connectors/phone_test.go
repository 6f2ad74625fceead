package connectors_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

func TestE164(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"+16505551234": "+16505551234", " +4915112345678 ": "+4915112345678", "+4412345": "+4412345"} {
		got, err := connectors.E164(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{"", "16505551234", "+1 650 555 1234", "+0123456789", "+12", "+1234567890123456"} {
		_, err := connectors.E164(bad)
		require.True(t, connectors.IsPermanent(err), "%q: %v", bad, err)
	}
	require.Equal(t, "4915112345678", connectors.Digits("+49 (151) 123-45678"))
}

func TestPollInterval(t *testing.T) {
	t.Parallel()
	require.Equal(t, 60*time.Second, connectors.PollInterval(nil))
	require.Equal(t, 90*time.Second, connectors.PollInterval(map[string]any{"poll_interval_seconds": float64(90)}))
	require.Equal(t, 15*time.Second, connectors.PollInterval(map[string]any{"poll_interval_seconds": 3}), "never below the minimum")
	require.Equal(t, 60*time.Second, connectors.PollInterval(map[string]any{"poll_interval_seconds": "soon"}))
}
