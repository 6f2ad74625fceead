package password_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/password"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		pw   string
		ok   bool
	}{
		{"too short", "short", false},
		{"eleven characters", strings.Repeat("a", 11), false},
		{"twelve characters", strings.Repeat("a", 12), true},
		{"twelve multi-byte characters count as characters", strings.Repeat("é", 12), true},
		{"the longest accepted", strings.Repeat("a", password.MaxLength), true},
		{"too long", strings.Repeat("a", password.MaxLength+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := password.Check(tc.pw)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, password.ErrWeak)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	a, b := password.Generate(), password.Generate()
	require.Len(t, a, 24)
	require.NotEqual(t, a, b)
	require.NoError(t, password.Check(a))
}

func TestHashAndVerify(t *testing.T) {
	t.Parallel()
	h := password.Hash("correct horse battery staple")
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	require.NotEqual(t, h, password.Hash("correct horse battery staple"), "every hash has its own salt")

	ok, err := password.Verify(h, "correct horse battery staple")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = password.Verify(h, "correct horse battery stapler")
	require.NoError(t, err)
	require.False(t, ok)

	for _, bad := range []string{"", "plain", "$bcrypt$v=19$m=1,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=1,t=1,p=1$c2FsdA$a2V5",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=1,t=1,p=1$!!$a2V5", "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$"} {
		_, err := password.Verify(bad, "x")
		require.ErrorIs(t, err, password.ErrBadHash, bad)
	}
	password.Waste("anything") // must not panic
}
