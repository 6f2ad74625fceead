package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/password"
	"github.com/relaydesk/relaydesk/internal/store"
)

func TestAdminPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	a, err := b.store.CreateAdmin(ctx, "Admin@Example.com", "correct horse battery staple", store.Actor{Name: "test"})
	require.NoError(t, err)
	require.Equal(t, "admin@example.com", a.Email)
	var hash string
	require.NoError(t, b.store.Pool().QueryRow(ctx, "SELECT password_hash FROM admin_users").Scan(&hash))
	require.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"), hash)

	_, err = b.store.Authenticate(ctx, "ADMIN@example.com ", "correct horse battery staple")
	require.NoError(t, err)
	_, err = b.store.Authenticate(ctx, "admin@example.com", "correct horse battery stapler")
	require.ErrorIs(t, err, store.ErrBadCredentials)
	_, err = b.store.Authenticate(ctx, "nobody@example.com", "correct horse battery staple")
	require.ErrorIs(t, err, store.ErrBadCredentials)

	_, err = b.store.CreateAdmin(ctx, "admin@example.com", "another long password", store.Actor{Name: "test"})
	require.ErrorIs(t, err, store.ErrAdminExists)
	_, err = b.store.CreateAdmin(ctx, "x@example.com", "short", store.Actor{Name: "test"})
	require.ErrorIs(t, err, password.ErrWeak)
}

func TestFirstAdminSetupRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	tok, err := b.store.NewSetupToken(ctx, time.Hour)
	require.NoError(t, err)
	live, err := b.store.CheckSetupToken(ctx, tok)
	require.NoError(t, err)
	require.True(t, live)

	// Two browsers submit the setup form at once: exactly one admin results.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = b.store.CreateFirstAdmin(ctx, tok, "first"+string(rune('a'+i))+"@example.com", "correct horse battery staple", "")
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		if err == nil {
			created++
		} else {
			require.True(t, errors.Is(err, store.ErrSetupClosed) || errors.Is(err, store.ErrBadSetupToken), err.Error())
		}
	}
	require.Equal(t, 1, created)
	n, err := b.store.AdminCount(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	live, err = b.store.CheckSetupToken(ctx, tok)
	require.NoError(t, err)
	require.False(t, live, "the setup closed: its token is gone")
	again, err := b.store.NewSetupToken(ctx, time.Hour)
	require.NoError(t, err)
	require.Empty(t, again, "no new setup token once an admin exists")
}

func TestOAuthStates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	a, err := b.store.CreateAdmin(ctx, "admin@example.com", "correct horse battery staple", store.Actor{Name: "test"})
	require.NoError(t, err)
	_, sess, err := b.store.CreateSession(ctx, a.ID, time.Hour, "", "")
	require.NoError(t, err)
	_, other, err := b.store.CreateSession(ctx, a.ID, time.Hour, "", "")
	require.NoError(t, err)
	conn, err := b.store.CreateConnection(ctx, store.NewConnection{Name: "zd", Kind: "zendesk"}, store.Actor{Name: "test"})
	require.NoError(t, err)

	st := store.OAuthState{ConnectionID: conn.ID, Verifier: "verifier-verifier-verifier-verifier-1234", RedirectURL: "https://x/cb"}
	require.NoError(t, b.store.CreateOAuthState(ctx, "state-1", st, sess.Hash, time.Minute))
	_, err = b.store.TakeOAuthState(ctx, "state-1", other.Hash)
	require.ErrorIs(t, err, store.ErrNotFound, "another session cannot use it (and burns it)")
	_, err = b.store.TakeOAuthState(ctx, "state-1", sess.Hash)
	require.ErrorIs(t, err, store.ErrNotFound, "single use")

	require.NoError(t, b.store.CreateOAuthState(ctx, "state-2", st, sess.Hash, time.Minute))
	var sealed, hashed int
	require.NoError(t, b.store.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE position($1::bytea IN verifier) = 0),
		count(*) FILTER (WHERE state_hash <> $2::bytea) FROM oauth_states`, []byte(st.Verifier), []byte("state-2")).Scan(&sealed, &hashed))
	require.Equal(t, 1, sealed, "the verifier is sealed")
	require.Equal(t, 1, hashed, "only the state's hash is stored")
	got, err := b.store.TakeOAuthState(ctx, "state-2", sess.Hash)
	require.NoError(t, err)
	require.Equal(t, st, got)
}
