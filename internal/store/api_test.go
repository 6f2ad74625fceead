package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

func TestTakeTokenLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	for want := 2.0; want >= 0; want-- {
		left, wait, err := b.store.TakeTokenLeft(ctx, "left", 1.0/3600, 3)
		require.NoError(t, err)
		require.Zero(t, wait)
		require.InDelta(t, want, left, 0.01)
	}
	left, wait, err := b.store.TakeTokenLeft(ctx, "left", 1.0/3600, 3)
	require.NoError(t, err)
	require.Positive(t, wait)
	require.InDelta(t, 0, left, 0.01, "an empty bucket reports what it holds")
}

func TestAPIClientsAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	who := store.Actor{Name: "test"}

	t.Run("registration is validated and the secret is kept as a hash", func(t *testing.T) {
		_, _, err := b.store.CreateAPIClient(ctx, store.NewAPIClient{Name: " ", Scopes: []string{"root"},
			GrantTypes: []string{"password"}, RedirectURIs: []string{"http://example.com/cb"}}, who)
		var verr *store.APIValidationError
		require.ErrorAs(t, err, &verr)
		require.Len(t, verr.Problems, 5)

		c, secret, err := b.store.CreateAPIClient(ctx, store.NewAPIClient{Name: "bot", Scopes: []string{apiauth.ScopeChatsRead},
			GrantTypes: []string{apiauth.GrantClientCredentials}, RateLimit: 60}, who)
		require.NoError(t, err)
		require.True(t, c.CheckSecret(secret))
		require.False(t, c.CheckSecret(secret+"x"))
		var stored []byte
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT secret_hash FROM api_clients WHERE id = $1`, c.ID).Scan(&stored))
		require.Equal(t, apiauth.Hash(secret), stored)
		_, _, err = b.store.CreateAPIClient(ctx, store.NewAPIClient{Name: "bot", Scopes: []string{apiauth.ScopeChatsRead},
			GrantTypes: []string{apiauth.GrantClientCredentials}, RateLimit: 60}, who)
		require.ErrorIs(t, err, store.ErrAPIClientExists)
	})

	t.Run("tokens are stored hashed and client credentials share one grant", func(t *testing.T) {
		c, _, err := b.store.CreateAPIClient(ctx, store.NewAPIClient{Name: "cc", Scopes: []string{apiauth.ScopeChatsRead},
			GrantTypes: []string{apiauth.GrantClientCredentials}, RateLimit: 60}, who)
		require.NoError(t, err)
		t1, err := b.store.IssueClientCredentials(ctx, c, c.Scopes)
		require.NoError(t, err)
		t2, err := b.store.IssueClientCredentials(ctx, c, c.Scopes)
		require.NoError(t, err)
		require.Equal(t, t1.GrantID, t2.GrantID)
		require.Empty(t, t1.RefreshToken)
		var n int
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE token_hash = $1`, apiauth.Hash(t1.AccessToken)).Scan(&n))
		require.Equal(t, 1, n)
		require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE token_hash = $1`, []byte(t1.AccessToken)).Scan(&n))
		require.Zero(t, n, "the token itself is never stored")
		a, err := b.store.AccessByToken(ctx, t1.AccessToken)
		require.NoError(t, err)
		require.Equal(t, c.ID, a.Client.ID)
		require.NoError(t, b.store.RevokeAllAPIGrants(ctx, c.ID, who))
		_, err = b.store.AccessByToken(ctx, t2.AccessToken)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	c, _, err := b.store.CreateAPIClient(ctx, store.NewAPIClient{Name: "idem", Scopes: []string{apiauth.ScopeMessagesSend},
		GrantTypes: []string{apiauth.GrantClientCredentials}, RateLimit: 60}, store.Actor{Name: "test"})
	require.NoError(t, err)

	// Concurrent requests with one key: exactly one does the work, the
	// others wait for it and get its response.
	var mu sync.Mutex
	worked := 0
	var replies []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := b.store.InTx(ctx, func(tx *store.Tx) error {
				prev, err := tx.BeginIdempotent(ctx, c.ID, "k1", []byte("hash-a"))
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				if prev != nil {
					replies = append(replies, string(prev.Body))
					return nil
				}
				worked++
				return tx.FinishIdempotent(ctx, c.ID, "k1", store.StoredResponse{Status: 202, Body: []byte(`{"id":1}`)})
			})
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Equal(t, 1, worked)
	require.Len(t, replies, 7)
	for _, r := range replies {
		require.Equal(t, `{"id":1}`, r)
	}
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.BeginIdempotent(ctx, c.ID, "k1", []byte("hash-b"))
		return err
	})
	require.ErrorIs(t, err, store.ErrIdempotencyMismatch)

	// After 24 hours the key is free again.
	_, err = b.store.Pool().Exec(ctx, `UPDATE api_idempotency SET created_at = now() - interval '25 hours'`)
	require.NoError(t, err)
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		prev, err := tx.BeginIdempotent(ctx, c.ID, "k1", []byte("hash-b"))
		require.Nil(t, prev)
		return err
	})
	require.NoError(t, err)
}
