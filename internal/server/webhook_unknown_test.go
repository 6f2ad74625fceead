package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// unknownNumbersBody is an unsigned delivery naming n phone number ids no
// account has, one change each.
func unknownNumbersBody(t *testing.T, n int) []byte {
	t.Helper()
	changes := make([]map[string]any, n)
	for i := range changes {
		changes[i] = map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
			"metadata": map[string]any{"display_phone_number": "1", "phone_number_id": fmt.Sprintf("9%014d", i)}}}
	}
	body, err := json.Marshal(map[string]any{"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": whatsapptest.FixtureWABAID, "changes": changes}}})
	require.NoError(t, err)
	return body
}

func TestUnknownNumberDeliveriesLogBoundedLines(t *testing.T) {
	t.Parallel()
	st := testdb.NewStore(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	srv := server.New(server.Opts{Logger: log, Store: st, Bridge: bridge.New(bridge.Opts{Store: st, Logger: log}),
		Registry: prometheus.NewRegistry(), WebhookMaxBytes: 4 << 20})

	body := unknownNumbersBody(t, 5000)
	for range 3 {
		rec := postWhatsApp(srv.Handler(), body, "sha256=00")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "unknown phone number ids") {
			lines = append(lines, l)
		}
	}
	require.Len(t, lines, 1, "one line per minute, the rest counted")
	require.Contains(t, lines[0], "count=5000")
	require.Less(t, len(lines[0]), 600, "a count and a few ids, not every id: %s", lines[0])
}
