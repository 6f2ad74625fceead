package oauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/declare"
	"github.com/relaydesk/relaydesk/internal/oauth"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

func TestRefreshIsSerialisedAndPersisted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.NewStore(t)
	_, err := declare.Apply(ctx, st, &config.File{Path: "t", Helpdesks: []config.HelpdeskEntry{{Name: "zd", Kind: "zendesk",
		Settings: map[string]any{}, Credentials: map[string]string{}}}})
	require.NoError(t, err)
	conn, err := st.ConnectionByName(ctx, "zd")
	require.NoError(t, err)

	// A token endpoint that rotates refresh tokens: each may be used once.
	var refreshes atomic.Int32
	var mu sync.Mutex
	valid := map[string]bool{"refresh-0": true}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		mu.Lock()
		defer mu.Unlock()
		rt := r.PostForm.Get("refresh_token")
		if r.PostForm.Get("grant_type") != "refresh_token" || !valid[rt] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		delete(valid, rt)
		n := refreshes.Add(1)
		next := fmt.Sprintf("refresh-%d", n)
		valid[next] = true
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"access-%d","token_type":"bearer","expires_in":3600,"refresh_token":%q}`, n, next)
	}))
	defer ts.Close()
	cfg := &oauth2.Config{ClientID: "c", ClientSecret: "s", Endpoint: oauth2.Endpoint{TokenURL: ts.URL, AuthStyle: oauth2.AuthStyleInParams}}

	expired := &oauth2.Token{AccessToken: "access-0", RefreshToken: "refresh-0", Expiry: time.Now().Add(-time.Hour)}
	require.NoError(t, st.SetOAuthToken(ctx, conn.ID, expired))

	// Four replicas find the token expired at the same moment.
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := oauth.TokenSource(ctx, st, conn.ID, cfg, expired).Token()
			require.NoError(t, err)
			got[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), refreshes.Load(), "one refresh for all replicas")
	for _, g := range got {
		require.Equal(t, "access-1", g)
	}

	conn, err = st.ConnectionByName(ctx, "zd")
	require.NoError(t, err)
	stored, err := st.OAuthToken(conn)
	require.NoError(t, err)
	require.Equal(t, "refresh-1", stored.RefreshToken, "the rotated refresh token is persisted")

	t.Run("no token means not connected", func(t *testing.T) {
		_, err := declare.Apply(ctx, st, &config.File{Path: "t", Helpdesks: []config.HelpdeskEntry{{Name: "other", Kind: "zendesk",
			Settings: map[string]any{}, Credentials: map[string]string{}}}})
		require.NoError(t, err)
		other, err := st.ConnectionByName(ctx, "other")
		require.NoError(t, err)
		_, err = oauth.TokenSource(ctx, st, other.ID, cfg, nil).Token()
		require.ErrorIs(t, err, oauth.ErrNotConnected)
	})
}
