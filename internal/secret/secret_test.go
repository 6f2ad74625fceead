package secret_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/secret"
)

func mustKey(t *testing.T) []byte {
	t.Helper()
	k, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	return k
}

func TestSealOpen(t *testing.T) {
	t.Parallel()

	kr, err := secret.NewKeyring(mustKey(t), nil)
	require.NoError(t, err)

	sealed := kr.SealString("EAAG-token", "whatsapp_accounts.access_token")
	require.False(t, bytes.Contains(sealed, []byte("EAAG-token")), "plaintext must not appear in the sealed value")

	got, err := kr.OpenString(sealed, "whatsapp_accounts.access_token")
	require.NoError(t, err)
	require.Equal(t, "EAAG-token", got)

	t.Run("another purpose does not open", func(t *testing.T) {
		_, err := kr.Open(sealed, "whatsapp_accounts.app_secret")
		require.ErrorIs(t, err, secret.ErrCorrupt)
	})
	t.Run("a flipped bit does not open", func(t *testing.T) {
		bad := bytes.Clone(sealed)
		bad[len(bad)-1] ^= 1
		_, err := kr.Open(bad, "whatsapp_accounts.access_token")
		require.ErrorIs(t, err, secret.ErrCorrupt)
	})
	t.Run("two seals differ", func(t *testing.T) {
		require.NotEqual(t, sealed, kr.SealString("EAAG-token", "whatsapp_accounts.access_token"))
	})
	t.Run("garbage is corrupt", func(t *testing.T) {
		for _, in := range [][]byte{nil, {1}, {9, 1, 2, 3, 4, 5}} {
			_, err := kr.Open(in, "x")
			require.Error(t, err)
		}
	})
}

func TestRotation(t *testing.T) {
	t.Parallel()

	oldKey, newKey := mustKey(t), mustKey(t)
	before, err := secret.NewKeyring(oldKey, nil)
	require.NoError(t, err)
	sealed := before.SealString("s3cret", "p")

	t.Run("new key alone cannot open", func(t *testing.T) {
		kr, err := secret.NewKeyring(newKey, nil)
		require.NoError(t, err)
		_, err = kr.Open(sealed, "p")
		require.ErrorIs(t, err, secret.ErrUnknownKey)
	})
	t.Run("new key with old key opens and reseals", func(t *testing.T) {
		kr, err := secret.NewKeyring(newKey, oldKey)
		require.NoError(t, err)
		require.True(t, kr.NeedsReseal(sealed))
		got, err := kr.OpenString(sealed, "p")
		require.NoError(t, err)
		require.Equal(t, "s3cret", got)

		resealed := kr.SealString(got, "p")
		require.False(t, kr.NeedsReseal(resealed))
		after, err := secret.NewKeyring(newKey, nil)
		require.NoError(t, err)
		got, err = after.OpenString(resealed, "p")
		require.NoError(t, err)
		require.Equal(t, "s3cret", got)
	})
}

func TestParseKey(t *testing.T) {
	t.Parallel()

	raw := bytes.Repeat([]byte{0xfb}, 32)
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"standard", base64.StdEncoding.EncodeToString(raw), ""},
		{"url", base64.URLEncoding.EncodeToString(raw), ""},
		{"raw url", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"short", base64.StdEncoding.EncodeToString(raw[:16]), "decodes to 16 bytes, want 32"},
		{"not base64", "not a key!", "is not valid base64"},
		{"empty", "", "decodes to 0 bytes, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := secret.ParseKey(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, raw, got)
		})
	}
}
