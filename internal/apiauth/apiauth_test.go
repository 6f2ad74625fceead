package apiauth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiauth"
)

func TestPKCE(t *testing.T) {
	t.Parallel()
	// RFC 7636 Appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	require.Equal(t, challenge, apiauth.ChallengeS256(verifier))
	require.True(t, apiauth.VerifyS256(verifier, challenge))
	require.True(t, apiauth.ValidChallenge(challenge))
	require.False(t, apiauth.VerifyS256(verifier+"x", challenge))
	require.False(t, apiauth.ValidVerifier("short"), "at least 43 characters")
	require.False(t, apiauth.ValidVerifier(verifier+"!"), "unreserved characters only")
	require.False(t, apiauth.ValidChallenge(verifier[:42]+"="))
}

func TestParseScope(t *testing.T) {
	t.Parallel()
	s, ok := apiauth.ParseScope("messages:read  chats:read chats:read")
	require.True(t, ok)
	require.Equal(t, []string{"chats:read", "messages:read"}, s)
	_, ok = apiauth.ParseScope("chats:read admin")
	require.False(t, ok)
	_, ok = apiauth.ParseScope("Chats:Read")
	require.False(t, ok, "scopes are case-sensitive")
	require.True(t, apiauth.Subset([]string{"chats:read"}, []string{"chats:read", "messages:read"}))
	require.False(t, apiauth.Subset([]string{"messages:send"}, []string{"chats:read"}))
}

func TestValidRedirectURI(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]bool{
		"https://app.example.com/cb":      true,
		"https://app.example.com/cb?x=1":  true,
		"http://127.0.0.1:8910/cb":        true,
		"http://localhost/cb":             true,
		"http://app.example.com/cb":       false,
		"https://app.example.com/cb#frag": false,
		"/relative":                       false,
		"com.example.app:/cb":             false,
		"https://user:pw@app.example.com": false,
	} {
		require.Equal(t, want, apiauth.ValidRedirectURI(u), u)
	}
}

func TestReadClientCredentials(t *testing.T) {
	t.Parallel()
	req := func(user, pass string) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "/oauth/token", nil)
		if user != "" {
			r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
		}
		return r
	}
	c, err := apiauth.ReadClientCredentials(req("rdc_a b", "s:e/c+ret"), url.Values{})
	require.Nil(t, err)
	require.Equal(t, apiauth.ClientCredentials{ID: "rdc_a b", Secret: "s:e/c+ret", Method: apiauth.AuthBasic}, c,
		"RFC 6749 §2.3.1: id and secret are form-urlencoded inside Basic")
	c, err = apiauth.ReadClientCredentials(req("", ""), url.Values{"client_id": {"id"}, "client_secret": {"sec"}})
	require.Nil(t, err)
	require.Equal(t, apiauth.AuthPost, c.Method)
	_, err = apiauth.ReadClientCredentials(req("", ""), url.Values{})
	require.Equal(t, apiauth.ErrInvalidClient, err.Code)
	require.Equal(t, http.StatusUnauthorized, err.Status)
	_, err = apiauth.ReadClientCredentials(req("id", "sec"), url.Values{"client_secret": {"sec"}})
	require.Equal(t, apiauth.ErrInvalidRequest, err.Code)
	r := req("", "")
	r.Header.Set("Authorization", "Bearer abc")
	_, err = apiauth.ReadClientCredentials(r, url.Values{})
	require.Equal(t, apiauth.ErrInvalidClient, err.Code)
	require.True(t, err.Basic)
}

func TestSignature(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec_test")
	body := []byte(`{"id":"evt_1"}`)
	at := time.Unix(1700000000, 0)
	h := apiauth.Sign(secret, at, body)
	require.Regexp(t, `^t=1700000000,v1=[0-9a-f]{64}$`, h)
	require.NoError(t, apiauth.VerifySignature(secret, h, body, at.Add(time.Minute), 5*time.Minute))
	require.ErrorIs(t, apiauth.VerifySignature(secret, h, []byte(`{"id":"evt_2"}`), at, 5*time.Minute), apiauth.ErrSignatureMismatch)
	require.ErrorIs(t, apiauth.VerifySignature([]byte("other"), h, body, at, 5*time.Minute), apiauth.ErrSignatureMismatch)
	require.ErrorIs(t, apiauth.VerifySignature(secret, h, body, at.Add(time.Hour), 5*time.Minute), apiauth.ErrSignatureExpired,
		"the timestamp is signed, so an old delivery cannot be replayed")
	require.ErrorIs(t, apiauth.VerifySignature(secret, "v1=abc", body, at, 5*time.Minute), apiauth.ErrSignatureMalformed)
}

func TestErrorRedirectKeepsTheQuery(t *testing.T) {
	t.Parallel()
	u := apiauth.ErrorRedirect("https://app.example.com/cb?tenant=7", apiauth.Errorf(apiauth.ErrAccessDenied, `the "admin" said no`), "st")
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	q := parsed.Query()
	require.Equal(t, "7", q.Get("tenant"))
	require.Equal(t, "access_denied", q.Get("error"))
	require.Equal(t, "st", q.Get("state"))
	require.Equal(t, "the 'admin' said no", q.Get("error_description"), "only characters RFC 6749 allows")
}
