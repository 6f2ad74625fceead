package apievents_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apievents"
)

func TestPublicClientRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	require.NoError(t, err)
	_, err = apievents.PublicClient().Do(req)
	require.ErrorContains(t, err, "non-public address", "an application cannot make relaydesk call its own network")

	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "192.168.0.1": false, "172.16.5.4": false, "169.254.169.254": false,
		"100.64.0.1": false, "::1": false, "fd00::1": false, "::ffff:127.0.0.1": false, "0.0.0.0": false,
	} {
		require.Equal(t, public, apievents.PublicAddr(netip.MustParseAddr(addr)), addr)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	require.NoError(t, apievents.CheckURL("https://hooks.example.com/relaydesk?x=1"))
	for _, bad := range []string{"http://hooks.example.com", "https://user:pw@hooks.example.com", "https://hooks.example.com/#f", "hooks.example.com", ""} {
		require.Error(t, apievents.CheckURL(bad), bad)
	}
}
