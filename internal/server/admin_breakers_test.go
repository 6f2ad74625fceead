package server_test

import (
	"context"
	"html"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/store"
)

// openBreaker marks a target down the way repeated failures do.
func openBreaker(t *testing.T, st *store.Store, target store.BreakerTarget, id int64, lastErr string) {
	t.Helper()
	since := time.Now().Add(-time.Minute)
	_, err := st.UpdateBreaker(context.Background(), target, id, func(b store.Breaker) store.Breaker {
		b.State, b.Failures, b.DownSince, b.NextProbeAt, b.LastError = store.BreakerOpen, 5, &since, &since, lastErr
		return b
	})
	require.NoError(t, err)
}

// A helpdesk or a number marked down shows on its list page with its last
// error; one that never failed shows nothing of the kind.
func TestAdminListsShowTargetsDown(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	conn, _ := fileZendesk(t, b, zendesktest.New(t), "")
	acc := b.fileNumber(t, "support", "100000000000123")

	for _, page := range []string{"/admin/helpdesks", "/admin/numbers"} {
		res := a.get(page)
		require.Equal(t, 200, res.code)
		require.NotContains(t, res.body, "messages waiting", page)
	}

	openBreaker(t, b.store, store.BreakerConnection, int64(conn.ID), "zendesk: 503 Service Unavailable")
	openBreaker(t, b.store, store.BreakerAccount, int64(acc.ID), "graph: dial tcp: connection refused")
	res := a.get("/admin/helpdesks")
	require.Contains(t, res.body, "0 messages waiting")
	require.Contains(t, html.UnescapeString(res.body), "last error: zendesk: 503 Service Unavailable")
	res = a.get("/admin/numbers")
	require.Contains(t, res.body, "0 messages waiting")
	require.Contains(t, html.UnescapeString(res.body), "last error: graph: dial tcp: connection refused")
}
