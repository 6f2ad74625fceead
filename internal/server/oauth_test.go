package server_test

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

const redirectURI = "http://127.0.0.1:9/callback"

// consent drives the browser part of the authorization code flow: the
// authorization URL, the login redirect, the consent page and the admin's
// decision. It returns the redirect back to the application.
func (b *apiBundle) consent(authURL, decision string) *url.URL {
	b.t.Helper()
	resp, body := b.do(mustGet(b.t, authURL))
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode, string(body))
	consentURL := resp.Header.Get("Location")
	require.True(b.t, strings.HasPrefix(consentURL, "/admin/apps/consent?"), consentURL)

	// Not logged in: the admin is asked to log in first, then comes back.
	resp, _ = b.do(mustGet(b.t, b.srv.URL+consentURL))
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(b.t, "/admin/login?next="+url.QueryEscape(consentURL), resp.Header.Get("Location"))

	resp, body = b.admin(http.MethodGet, consentURL, nil)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(b.t, string(body), "Approve")

	u, err := url.Parse(consentURL)
	require.NoError(b.t, err)
	form := u.Query()
	form.Set("_csrf", b.csrf())
	form.Set("decision", decision)
	resp, body = b.admin(http.MethodPost, "/admin/apps/consent", form)
	require.Equal(b.t, http.StatusOK, resp.StatusCode, "a page, not a redirect the form-action policy would block: %s", body)
	back, err := url.Parse(leaveTarget(b.t, string(body)))
	require.NoError(b.t, err)
	require.Equal(b.t, "127.0.0.1:9", back.Host)
	require.Equal(b.t, b.srv.URL, back.Query().Get("iss"), "RFC 9207 iss")
	return back
}

var (
	leaveLinkRe = regexp.MustCompile(`<a class="btn primary" id="leave" href="([^"]+)"`)
	leaveMetaRe = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`)
)

// leaveTarget is where a leave page (admin_leave.go) takes the browser: its
// meta refresh and its link must agree.
func leaveTarget(t testing.TB, body string) string {
	t.Helper()
	link, meta := leaveLinkRe.FindStringSubmatch(body), leaveMetaRe.FindStringSubmatch(body)
	require.NotNil(t, link, body)
	require.NotNil(t, meta, body)
	u := html.UnescapeString(link[1])
	require.Equal(t, u, html.UnescapeString(meta[1]))
	return u
}

func mustGet(t testing.TB, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	return req
}

func TestAuthorizationCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	ctx := context.Background()
	app, secret := b.app(store.NewAPIClient{Name: "CRM", Scopes: []string{apiauth.ScopeChatsRead, apiauth.ScopeMessagesRead},
		GrantTypes: []string{apiauth.GrantAuthorizationCode}, RedirectURIs: []string{redirectURI}})
	conf := &oauth2.Config{ClientID: app.ClientID, ClientSecret: secret, RedirectURL: redirectURI,
		Scopes:   []string{apiauth.ScopeChatsRead},
		Endpoint: oauth2.Endpoint{AuthURL: b.srv.URL + "/oauth/authorize", TokenURL: b.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
	chats := func(tok string) int {
		resp, _ := b.api(http.MethodGet, "/api/v1/chats", tok, nil)
		return resp.StatusCode
	}

	flow := func(t *testing.T) (*oauth2.Token, string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		back := b.consent(conf.AuthCodeURL("xyz-state", oauth2.S256ChallengeOption(verifier)), "approve")
		require.Equal(t, "xyz-state", back.Query().Get("state"), "state is echoed")
		code := back.Query().Get("code")
		require.True(t, strings.HasPrefix(code, apiauth.PrefixCode))
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		return tok, code
	}

	t.Run("code, token, API call, refresh, revoke", func(t *testing.T) {
		tok, _ := flow(t)
		require.Equal(t, "Bearer", tok.TokenType)
		require.NotEmpty(t, tok.RefreshToken, "the authorization code grant comes with a refresh token")
		require.Equal(t, "chats:read", tok.Extra("scope"), "the token has the scope asked for, not every allowed one")
		require.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
		require.Equal(t, http.StatusOK, chats(tok.AccessToken))

		// Refresh: rotate the refresh token.
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		fresh, err := conf.TokenSource(ctx, &expired).Token()
		require.NoError(t, err)
		require.NotEqual(t, tok.AccessToken, fresh.AccessToken)
		require.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "refresh tokens rotate")
		require.Equal(t, http.StatusOK, chats(fresh.AccessToken))

		// Revoke the new access token: it stops at once.
		resp, body := b.formPost("/oauth/revoke", app.ClientID, secret, url.Values{"token": {fresh.AccessToken}, "token_type_hint": {"access_token"}})
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, http.StatusUnauthorized, chats(fresh.AccessToken))
		resp, _ = b.formPost("/oauth/revoke", app.ClientID, secret, url.Values{"token": {"rdat_unknown"}})
		require.Equal(t, http.StatusOK, resp.StatusCode, "an unknown token is answered like a revoked one (RFC 7009 §2.2)")

		// Revoke the refresh token: its whole grant goes.
		resp, _ = b.formPost("/oauth/revoke", app.ClientID, secret, url.Values{"token": {fresh.RefreshToken}})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token()
		requireOAuthError(t, err, "invalid_grant")
	})

	t.Run("reusing a spent refresh token revokes the family", func(t *testing.T) {
		tok, _ := flow(t)
		old := *tok
		old.Expiry = time.Now().Add(-time.Minute)
		fresh, err := conf.TokenSource(ctx, &old).Token()
		require.NoError(t, err)
		_, err = conf.TokenSource(ctx, &old).Token() // the spent one, again
		requireOAuthError(t, err, "invalid_grant")
		require.Equal(t, http.StatusUnauthorized, chats(fresh.AccessToken), "the family is revoked")
		_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: old.Expiry}).Token()
		requireOAuthError(t, err, "invalid_grant")
	})

	t.Run("a code cannot be used twice, and the second use revokes the first's tokens", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		back := b.consent(conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)), "approve")
		code := back.Query().Get("code")
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, chats(tok.AccessToken))
		_, err = conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		requireOAuthError(t, err, "invalid_grant")
		require.Equal(t, http.StatusUnauthorized, chats(tok.AccessToken), "RFC 6749 §4.1.2: tokens of the first use are revoked")
	})

	t.Run("the admin denies: access_denied with state", func(t *testing.T) {
		back := b.consent(conf.AuthCodeURL("deny-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "deny")
		require.Equal(t, "access_denied", back.Query().Get("error"))
		require.Equal(t, "deny-state", back.Query().Get("state"))
		require.Empty(t, back.Query().Get("code"))
	})

	t.Run("the wrong verifier or redirect URI is invalid_grant", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		back := b.consent(conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(verifier)), "approve")
		code := back.Query().Get("code")
		_, err := conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		requireOAuthError(t, err, "invalid_grant")
		other := *conf
		other.RedirectURL = "http://127.0.0.1:9/elsewhere"
		_, err = other.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		requireOAuthError(t, err, "invalid_grant")
		_, err = conf.Exchange(ctx, code)
		requireOAuthError(t, err, "invalid_request") // no verifier at all
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		require.NoError(t, err, "failed attempts do not burn the code")
		require.Equal(t, http.StatusOK, chats(tok.AccessToken))
	})

	t.Run("a token for one scope cannot reach another", func(t *testing.T) {
		tok, _ := flow(t)
		resp, body := b.api(http.MethodGet, "/api/v1/chats/1/messages", tok.AccessToken, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, string(body))
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `scope="messages:read"`)
	})

	t.Run("revocation from the admin page stops the tokens at once", func(t *testing.T) {
		tok, _ := flow(t)
		require.Equal(t, http.StatusOK, chats(tok.AccessToken))
		resp, body := b.admin(http.MethodPost, "/admin/apps/"+itoa(app.ID)+"/revoke", url.Values{"_csrf": {b.csrf()}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, string(body))
		require.Equal(t, http.StatusUnauthorized, chats(tok.AccessToken))
	})
}

func requireOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	require.True(t, errors.As(err, &re), "want an OAuth error %s, got %v", code, err)
	require.Equal(t, code, re.ErrorCode, string(re.Body))
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	cc, ccSecret := b.app(store.NewAPIClient{Name: "bot", Scopes: []string{apiauth.ScopeChatsRead},
		GrantTypes: []string{apiauth.GrantClientCredentials}})
	web, webSecret := b.app(store.NewAPIClient{Name: "web", Scopes: []string{apiauth.ScopeChatsRead},
		GrantTypes: []string{apiauth.GrantAuthorizationCode}, RedirectURIs: []string{redirectURI}})

	type tc struct {
		name       string
		req        func() *http.Request
		status     int
		code       string
		basicChall bool
	}
	post := func(body string, auth func(*http.Request)) func() *http.Request {
		return func() *http.Request {
			req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/oauth/token", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if auth != nil {
				auth(req)
			}
			return req
		}
	}
	basic := func(id, secret string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(id, secret) }
	}
	for _, c := range []tc{
		{"no client authentication", post("grant_type=client_credentials", nil), 401, "invalid_client", true},
		{"wrong secret with HTTP Basic", post("grant_type=client_credentials", basic(cc.ClientID, "nope")), 401, "invalid_client", true},
		{"unknown client with HTTP Basic", post("grant_type=client_credentials", basic("rdc_nobody", "nope")), 401, "invalid_client", true},
		{"wrong secret in the body", post("grant_type=client_credentials&client_id="+cc.ClientID+"&client_secret=nope", nil), 401, "invalid_client", false},
		{"two authentication methods", post("grant_type=client_credentials&client_secret="+ccSecret, basic(cc.ClientID, ccSecret)), 400, "invalid_request", false},
		{"missing grant_type", post("scope=chats:read", basic(cc.ClientID, ccSecret)), 400, "invalid_request", false},
		{"repeated parameter", post("grant_type=client_credentials&grant_type=client_credentials", basic(cc.ClientID, ccSecret)), 400, "invalid_request", false},
		{"unknown grant type", post("grant_type=password&username=a&password=b", basic(cc.ClientID, ccSecret)), 400, "unsupported_grant_type", false},
		{"grant type not allowed", post("grant_type=client_credentials", basic(web.ClientID, webSecret)), 400, "unauthorized_client", false},
		{"code grant not allowed", post("grant_type=authorization_code&code=x&code_verifier=y", basic(cc.ClientID, ccSecret)), 400, "unauthorized_client", false},
		{"scope beyond the allowed", post("grant_type=client_credentials&scope=messages:send", basic(cc.ClientID, ccSecret)), 400, "invalid_scope", false},
		{"unknown scope", post("grant_type=client_credentials&scope=admin", basic(cc.ClientID, ccSecret)), 400, "invalid_scope", false},
		{"unknown code", post("grant_type=authorization_code&code=rdac_nope&code_verifier="+strings.Repeat("a", 43)+"&redirect_uri="+url.QueryEscape(redirectURI), basic(web.ClientID, webSecret)), 400, "invalid_grant", false},
		{"missing code", post("grant_type=authorization_code&code_verifier="+strings.Repeat("a", 43), basic(web.ClientID, webSecret)), 400, "invalid_request", false},
		{"unknown refresh token", post("grant_type=refresh_token&refresh_token=rdrt_nope", basic(web.ClientID, webSecret)), 400, "invalid_grant", false},
		{"a JSON body", func() *http.Request {
			r := post(`{"grant_type":"client_credentials"}`, basic(cc.ClientID, ccSecret))()
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, "invalid_request", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.do(c.req())
			require.Equal(t, c.status, resp.StatusCode, string(body))
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			e := decode[map[string]string](t, body)
			require.Equal(t, c.code, e["error"], string(body))
			if c.basicChall {
				require.True(t, strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic "), "RFC 6749 §5.2: 401 with a Basic challenge")
			}
		})
	}

	t.Run("client credentials: a token without refresh token", func(t *testing.T) {
		resp, body := b.tokenRequest(cc.ClientID, ccSecret, url.Values{"grant_type": {"client_credentials"}})
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.Equal(t, "no-cache", resp.Header.Get("Pragma"))
		tr := decode[map[string]any](t, body)
		require.Equal(t, "Bearer", tr["token_type"])
		require.EqualValues(t, 3600, tr["expires_in"])
		require.Equal(t, "chats:read", tr["scope"])
		require.NotContains(t, tr, "refresh_token", "RFC 6749 §4.4.3")
	})

	t.Run("a token of another client cannot be revoked by it", func(t *testing.T) {
		tok := b.clientToken(cc, ccSecret, "")
		resp, body := b.formPost("/oauth/revoke", web.ClientID, webSecret, url.Values{"token": {tok}})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
		require.Equal(t, "unauthorized_client", decode[map[string]string](t, body)["error"])
		r, _ := b.api(http.MethodGet, "/api/v1/chats", tok, nil)
		require.Equal(t, http.StatusOK, r.StatusCode, "still valid")
		resp, _ = b.formPost("/oauth/revoke", cc.ClientID, "wrong", url.Values{"token": {tok}})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
}

func TestAuthorizationEndpointErrors(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	web, _ := b.app(store.NewAPIClient{Name: "web", Scopes: []string{apiauth.ScopeChatsRead},
		GrantTypes: []string{apiauth.GrantAuthorizationCode}, RedirectURIs: []string{redirectURI, redirectURI + "2"}})
	cc, _ := b.app(store.NewAPIClient{Name: "bot", Scopes: []string{apiauth.ScopeChatsRead},
		GrantTypes: []string{apiauth.GrantClientCredentials}, RedirectURIs: []string{redirectURI}})
	challenge := apiauth.ChallengeS256(oauth2.GenerateVerifier())
	good := func(client string) url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirectURI}, "state": {"st"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"chats:read"}}
	}
	with := func(v url.Values, k, val string) url.Values {
		v.Set(k, val)
		if val == "" {
			v.Del(k)
		}
		return v
	}
	for _, c := range []struct {
		name  string
		query url.Values
		code  string // "" means shown, not redirected
	}{
		{"unknown client", with(good(web.ClientID), "client_id", "rdc_nobody"), ""},
		{"unregistered redirect URI", with(good(web.ClientID), "redirect_uri", "https://evil.example/cb"), ""},
		{"missing redirect URI with several registered", with(good(web.ClientID), "redirect_uri", ""), ""},
		{"response_type token", with(good(web.ClientID), "response_type", "token"), "unsupported_response_type"},
		{"missing response_type", with(good(web.ClientID), "response_type", ""), "invalid_request"},
		{"no code_challenge", with(good(web.ClientID), "code_challenge", ""), "invalid_request"},
		{"plain PKCE", with(good(web.ClientID), "code_challenge_method", "plain"), "invalid_request"},
		{"scope not allowed", with(good(web.ClientID), "scope", "messages:send"), "invalid_scope"},
		{"unknown scope", with(good(web.ClientID), "scope", "everything"), "invalid_scope"},
		{"client without the code grant", good(cc.ClientID), "unauthorized_client"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := b.do(mustGet(t, b.srv.URL+"/oauth/authorize?"+c.query.Encode()))
			if c.code == "" {
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, "never redirected to an untrusted URI")
				require.Empty(t, resp.Header.Get("Location"))
				require.Contains(t, string(body), "cannot be completed")
				return
			}
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, string(body))
			back, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			require.Equal(t, "127.0.0.1:9", back.Host)
			require.Equal(t, c.code, back.Query().Get("error"))
			require.Equal(t, "st", back.Query().Get("state"))
		})
	}
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	a, aSecret := b.app(store.NewAPIClient{Name: "a", Scopes: []string{apiauth.ScopeChatsRead}, GrantTypes: []string{apiauth.GrantClientCredentials}})
	other, oSecret := b.app(store.NewAPIClient{Name: "other", Scopes: []string{apiauth.ScopeChatsRead}, GrantTypes: []string{apiauth.GrantClientCredentials}})
	rs, rsSecret := b.app(store.NewAPIClient{Name: "resource-server", Scopes: []string{apiauth.ScopeChatsRead},
		GrantTypes: []string{apiauth.GrantClientCredentials}, CanIntrospect: true})
	tok := b.clientToken(a, aSecret, "")
	introspect := func(id, secret, token string) map[string]any {
		resp, body := b.formPost("/oauth/introspect", id, secret, url.Values{"token": {token}})
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		return decode[map[string]any](t, body)
	}

	own := introspect(a.ClientID, aSecret, tok)
	require.Equal(t, true, own["active"])
	require.Equal(t, "chats:read", own["scope"])
	require.Equal(t, a.ClientID, own["client_id"])
	require.Equal(t, "Bearer", own["token_type"])
	require.NotZero(t, own["exp"])
	require.Equal(t, map[string]any{"active": false}, introspect(other.ClientID, oSecret, tok), "another application learns nothing")
	require.Equal(t, true, introspect(rs.ClientID, rsSecret, tok)["active"], "an application allowed to introspect sees any token")
	require.Equal(t, map[string]any{"active": false}, introspect(rs.ClientID, rsSecret, "rdat_unknown"))

	resp, _ := b.formPost("/oauth/introspect", "", "", url.Values{"token": {tok}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "introspection needs client authentication")

	resp, _ = b.formPost("/oauth/revoke", a.ClientID, aSecret, url.Values{"token": {tok}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, map[string]any{"active": false}, introspect(rs.ClientID, rsSecret, tok), "revoked")
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	resp, body := b.api(http.MethodGet, "/.well-known/oauth-authorization-server", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	m := decode[map[string]any](t, body)
	require.Equal(t, b.srv.URL, m["issuer"])
	require.Equal(t, b.srv.URL+"/oauth/token", m["token_endpoint"])
	require.Equal(t, b.srv.URL+"/oauth/authorize", m["authorization_endpoint"])
	require.Equal(t, b.srv.URL+"/oauth/revoke", m["revocation_endpoint"])
	require.Equal(t, b.srv.URL+"/oauth/introspect", m["introspection_endpoint"])
	require.Equal(t, []any{"S256"}, m["code_challenge_methods_supported"])
	require.Equal(t, []any{"code"}, m["response_types_supported"])
	require.ElementsMatch(t, []any{"authorization_code", "client_credentials", "refresh_token"}, m["grant_types_supported"])
	require.ElementsMatch(t, []any{"chats:read", "messages:read", "messages:send", "contacts:read", "contacts:erase", "webhooks:manage"}, m["scopes_supported"])
}

func itoa[T ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }
