package acceptance

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// dumpLog puts the end of relaydesk's log into the test output.
func (p *process) dumpLog(t *testing.T) {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		t.Logf("relaydesk's log: %v", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 80 {
		lines = lines[len(lines)-80:]
	}
	t.Logf("last lines of relaydesk's log (%s):\n%s", p.logPath, strings.Join(lines, "\n"))
}

// waitFor polls check until it returns nil and fails the test with its
// last answer when that takes longer than within: a bound for a broken
// run, not a measurement.
func waitFor(t *testing.T, what string, within time.Duration, check func() error) {
	t.Helper()
	if err := retry(within, check); err != nil {
		t.Fatalf("%s: still not the case after %s: %v", what, within, err)
	}
}

// retry calls f every quarter second until it returns nil or within has
// passed, and returns its last error. It may run on any goroutine.
func retry(within time.Duration, f func() error) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}
