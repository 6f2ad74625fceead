// Package oauth keeps helpdesk OAuth2 tokens fresh across replicas: a token
// source that refreshes under a row lock and persists the rotated token.
package oauth

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/internal/store"
)

// expiryMargin refreshes a little before the token expires.
const expiryMargin = time.Minute

// ErrNotConnected is returned when a connection has no OAuth2 token.
var ErrNotConnected = errors.New("oauth: the connection has no OAuth2 token: connect it again in the admin page")

// TokenSource returns a source for a connection's access token. It serves
// the cached token while it is valid; otherwise it locks the connection's
// row, uses a token another replica refreshed meanwhile if there is one, or
// refreshes with cfg and stores the new (possibly rotated) token before
// returning it.
func TokenSource(ctx context.Context, st *store.Store, connectionID store.ConnectionID, cfg *oauth2.Config, current *oauth2.Token) oauth2.TokenSource {
	return &source{ctx: context.WithoutCancel(ctx), st: st, id: connectionID, cfg: cfg, tok: current}
}

type source struct {
	ctx context.Context
	st  *store.Store
	id  store.ConnectionID
	cfg *oauth2.Config

	mu  sync.Mutex
	tok *oauth2.Token
}

func fresh(t *oauth2.Token) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || time.Until(t.Expiry) > expiryMargin)
}

// Token implements oauth2.TokenSource.
func (s *source) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fresh(s.tok) {
		return s.tok, nil
	}
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	var out *oauth2.Token
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.LockOAuthToken(ctx, s.id)
		if err != nil {
			return err
		}
		if t == nil {
			return ErrNotConnected
		}
		if fresh(t) {
			out = t // another replica refreshed it
			return nil
		}
		// Expiry in the past makes the library refresh now.
		stale := *t
		stale.Expiry = time.Now().Add(-time.Second)
		nt, err := s.cfg.TokenSource(ctx, &stale).Token()
		if err != nil {
			return err
		}
		if nt.RefreshToken == "" {
			nt.RefreshToken = t.RefreshToken // not rotated: keep the old one
		}
		out = nt
		return tx.SetOAuthToken(ctx, s.id, nt)
	})
	if err != nil {
		return nil, err
	}
	s.tok = out
	return out, nil
}
