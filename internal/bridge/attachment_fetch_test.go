package bridge

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

// A helpdesk attachment URL (from a webhook) must not make relaydesk fetch
// from its own network and forward the answer to a WhatsApp customer; the
// helpdesk's own origin, which the admin configured, stays reachable.
func TestAttachmentURLCannotReachInternalAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "secret")
	}))
	t.Cleanup(internal.Close)
	b := &Bridge{http: DefaultHTTPClient()}
	ctx := context.Background()
	conn := func(base string) *connection { return &connection{row: store.Connection{BaseURL: base}} }

	for _, u := range []string{
		internal.URL + "/latest/meta-data",            // loopback, not the helpdesk
		"http://169.254.169.254/latest/meta-data",     // link-local cloud metadata
		"file:///etc/passwd",                          // not http
		"http://user:pass@helpdesk.example.com/a.png", // credentials in the URL
	} {
		rc, err := b.openAttachmentURL(ctx, conn("https://helpdesk.example.com"), u)
		if rc != nil {
			rc.Close()
		}
		require.Error(t, err, u)
	}
	require.Zero(t, hits.Load(), "no request reached the internal server")

	t.Run("the helpdesk's own origin is fetched", func(t *testing.T) {
		rc, err := b.openAttachmentURL(ctx, conn(internal.URL), internal.URL+"/a.png")
		require.NoError(t, err)
		body, _ := io.ReadAll(rc)
		rc.Close()
		require.Equal(t, "secret", string(body))
	})
	t.Run("a redirect from the helpdesk to another internal address is refused", func(t *testing.T) {
		before := hits.Load()
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(100) }))
		t.Cleanup(other.Close)
		rc, err := b.openAttachmentURL(ctx, conn(internal.URL), internal.URL+"/redirect?to="+other.URL+"/x")
		if rc != nil {
			rc.Close()
		}
		require.Error(t, err)
		require.Equal(t, before+1, hits.Load(), "only the helpdesk was asked")
	})
}
