package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// This file is relaydesk's OAuth 2.0 authorization server for the public
// API (see docs/api.md for why it is a focused implementation rather than
// ory/fosite): RFC 8414 metadata, the authorization endpoint (RFC 6749
// §4.1 with RFC 7636 PKCE, S256 only), the token endpoint (authorization
// code, client credentials, rotating refresh tokens), RFC 7009 revocation
// and RFC 7662 introspection. The consent page itself is in admin_apps.go
// (consentPage, consentSubmit): only a logged-in admin can approve an
// application.

// oauthMetadata serves the RFC 8414 document.
func (s *Server) oauthMetadata(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, apiauth.NewMetadata(s.publicBase(c)))
}

// authRequest is a checked authorization request (RFC 6749 §4.1.1).
type authRequest struct {
	Client        store.APIClient
	RedirectURI   string
	RedirectGiven bool
	Scopes        []string
	State         string
	Challenge     string
}

// Query is the request as query parameters, to carry it to the consent page.
func (r authRequest) Query() string {
	v := url.Values{"response_type": {"code"}, "client_id": {r.Client.ClientID}, "scope": {apiauth.FormatScope(r.Scopes)},
		"code_challenge": {r.Challenge}, "code_challenge_method": {apiauth.MethodS256}}
	if r.RedirectGiven {
		v.Set("redirect_uri", r.RedirectURI)
	}
	if r.State != "" {
		v.Set("state", r.State)
	}
	return v.Encode()
}

// authError is a failed authorization request. Without a trustworthy
// redirect URI (unknown client, unregistered redirect_uri) the error is
// shown to the admin and never redirected (RFC 6749 §4.1.2.1); otherwise it
// goes back to the client.
type authError struct {
	redirect string // "" when the error must not be redirected
	state    string
	err      *apiauth.Error
}

// checkAuthRequest validates an authorization request in the RFC's order:
// first the client and its redirect URI, then everything that may be
// reported to the client by redirect.
func (s *Server) checkAuthRequest(c echo.Context, q url.Values) (authRequest, *authError) {
	var r authRequest
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return r, &authError{err: apiauth.Errorf(apiauth.ErrInvalidRequest, "the parameter "+k+" is repeated")}
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return r, &authError{err: apiauth.Errorf(apiauth.ErrInvalidRequest, "client_id is missing")}
	}
	client, err := s.store.APIClientByClientID(c.Request().Context(), clientID)
	if err != nil || !client.Enabled {
		return r, &authError{err: apiauth.Errorf(apiauth.ErrInvalidClient, "no enabled application has this client_id")}
	}
	r.Client = client
	r.RedirectURI, r.RedirectGiven = q.Get("redirect_uri"), q.Get("redirect_uri") != ""
	switch {
	case r.RedirectGiven && !slices.Contains(client.RedirectURIs, r.RedirectURI):
		return r, &authError{err: apiauth.Errorf(apiauth.ErrInvalidRequest,
			"redirect_uri does not exactly match a redirect URI registered for "+client.Name)}
	case !r.RedirectGiven && len(client.RedirectURIs) != 1:
		return r, &authError{err: apiauth.Errorf(apiauth.ErrInvalidRequest,
			"redirect_uri is required: the application has "+fmt.Sprint(len(client.RedirectURIs))+" registered")}
	case !r.RedirectGiven:
		r.RedirectURI = client.RedirectURIs[0]
	}
	r.State = q.Get("state")
	fail := func(code, desc string) (authRequest, *authError) {
		return r, &authError{redirect: r.RedirectURI, state: r.State, err: apiauth.Errorf(code, desc)}
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return fail(apiauth.ErrInvalidRequest, "the parameter "+k+" is repeated")
		}
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		return fail(apiauth.ErrInvalidRequest, "response_type is missing")
	case rt != "code":
		return fail(apiauth.ErrUnsupportedResponseType, "only response_type=code is supported")
	}
	if !client.AllowsGrant(apiauth.GrantAuthorizationCode) {
		return fail(apiauth.ErrUnauthorizedClient, "this application may not use the authorization code grant")
	}
	if q.Get("scope") == "" {
		r.Scopes = slices.Clone(client.Scopes) // RFC 6749 §3.3: the default is everything the admin allowed
	} else {
		var ok bool
		if r.Scopes, ok = apiauth.ParseScope(q.Get("scope")); !ok || len(r.Scopes) == 0 {
			return fail(apiauth.ErrInvalidScope, "unknown scope; the scopes are "+strings.Join(apiauth.Scopes, " "))
		}
		if !apiauth.Subset(r.Scopes, client.Scopes) {
			return fail(apiauth.ErrInvalidScope, "the application may only ask for "+apiauth.FormatScope(client.Scopes))
		}
	}
	r.Challenge = q.Get("code_challenge")
	switch m := q.Get("code_challenge_method"); {
	case r.Challenge == "":
		return fail(apiauth.ErrInvalidRequest, "code_challenge is required (PKCE, RFC 7636)")
	case m != apiauth.MethodS256:
		return fail(apiauth.ErrInvalidRequest, "code_challenge_method must be S256")
	case !apiauth.ValidChallenge(r.Challenge):
		return fail(apiauth.ErrInvalidRequest, "code_challenge must be the base64url SHA-256 of the code verifier")
	}
	return r, nil
}

// answerAuthError redirects an error to the client, or shows it when the
// redirect URI cannot be trusted.
func (s *Server) answerAuthError(c echo.Context, e *authError) error {
	if e.redirect == "" {
		return s.oauthErrorPage(c, e.err)
	}
	target := s.withIss(c, apiauth.ErrorRedirect(e.redirect, e.err, e.state))
	if c.Request().Method == http.MethodPost {
		// The consent form's answer: a redirect would be blocked by the
		// form-action policy (admin_leave.go).
		return s.leave(c, target, leaveView{Title: "Returning to the application", Button: "Return to the application",
			Message: "The application is told that access was not granted."})
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// withIss adds the RFC 9207 iss parameter to an authorization response.
func (s *Server) withIss(c echo.Context, redirect string) string {
	return apiauth.RedirectURL(redirect, url.Values{"iss": {s.publicBase(c)}})
}

// authorize is the authorization endpoint (GET /oauth/authorize). It checks
// the request, then hands it to the consent page under /admin, which asks
// the admin to log in first when needed.
func (s *Server) authorize(c echo.Context) error {
	r, aerr := s.checkAuthRequest(c, c.QueryParams())
	if aerr != nil {
		return s.answerAuthError(c, aerr)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/apps/consent?"+r.Query())
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// oauthForm parses a token, revocation or introspection request body:
// application/x-www-form-urlencoded, every parameter at most once (RFC 6749
// §3.2), empty values treated as absent.
func oauthForm(c echo.Context) (url.Values, *apiauth.Error) {
	req := c.Request()
	if req.Method != http.MethodPost {
		return nil, apiauth.Errorf(apiauth.ErrInvalidRequest, "use POST")
	}
	ct := req.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return nil, apiauth.Errorf(apiauth.ErrInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if err := req.ParseForm(); err != nil {
		return nil, apiauth.Errorf(apiauth.ErrInvalidRequest, "unreadable form body")
	}
	if len(req.URL.Query()) > 0 {
		return nil, apiauth.Errorf(apiauth.ErrInvalidRequest, "send parameters in the body, not the URL")
	}
	form := url.Values{}
	for k, vs := range req.PostForm {
		var set []string
		for _, v := range vs {
			if v != "" {
				set = append(set, v)
			}
		}
		if len(set) > 1 {
			return nil, apiauth.Errorf(apiauth.ErrInvalidRequest, "the parameter "+k+" is repeated")
		}
		if len(set) == 1 {
			form[k] = set
		}
	}
	return form, nil
}

// oauthError answers an OAuth error as JSON (RFC 6749 §5.2).
func oauthError(c echo.Context, e *apiauth.Error) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if e.Basic {
		h.Set("WWW-Authenticate", `Basic realm="relaydesk", charset="UTF-8"`)
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	return c.JSON(status, e.Body())
}

// clientRequest reads the form of a client-authenticated endpoint and
// authenticates the client.
func (s *Server) clientRequest(c echo.Context) (url.Values, store.APIClient, *apiauth.Error) {
	form, aerr := oauthForm(c)
	if aerr != nil {
		return nil, store.APIClient{}, aerr
	}
	client, aerr := s.authenticateClient(c, form)
	return form, client, aerr
}

// clientTokenRequest is clientRequest for the endpoints about one token
// (revocation, introspection): it also requires the token parameter.
func (s *Server) clientTokenRequest(c echo.Context) (string, store.APIClient, *apiauth.Error) {
	form, client, aerr := s.clientRequest(c)
	if aerr != nil {
		return "", client, aerr
	}
	tok := form.Get("token")
	if tok == "" {
		return "", client, apiauth.Errorf(apiauth.ErrInvalidRequest, "token is missing")
	}
	return tok, client, nil
}

// authenticateClient checks a request's client credentials.
func (s *Server) authenticateClient(c echo.Context, form url.Values) (store.APIClient, *apiauth.Error) {
	cred, aerr := apiauth.ReadClientCredentials(c.Request(), form)
	if aerr != nil {
		return store.APIClient{}, aerr
	}
	client, err := s.store.APIClientByClientID(c.Request().Context(), cred.ID)
	if err != nil {
		// Same cost and answer as a wrong secret.
		apiauth.SecretMatches(cred.Secret, make([]byte, 32))
		return client, apiauth.BadClient(cred)
	}
	if !client.CheckSecret(cred.Secret) || !client.Enabled {
		return client, apiauth.BadClient(cred)
	}
	return client, nil
}

// token is the token endpoint (POST /oauth/token).
func (s *Server) token(c echo.Context) error {
	form, client, aerr := s.clientRequest(c)
	if aerr != nil {
		return oauthError(c, aerr)
	}
	grant := form.Get("grant_type")
	switch grant {
	case "":
		return oauthError(c, apiauth.Errorf(apiauth.ErrInvalidRequest, "grant_type is missing"))
	case apiauth.GrantAuthorizationCode, apiauth.GrantClientCredentials, apiauth.GrantRefreshToken:
	default:
		return oauthError(c, apiauth.Errorf(apiauth.ErrUnsupportedGrantType, "grant_type must be authorization_code, client_credentials or refresh_token"))
	}
	if !client.AllowsGrant(grant) {
		return oauthError(c, apiauth.Errorf(apiauth.ErrUnauthorizedClient, "this application may not use the "+grant+" grant"))
	}
	var issued store.IssuedTokens
	var err error
	switch grant {
	case apiauth.GrantAuthorizationCode:
		issued, aerr, err = s.tokenFromCode(c, client, form)
	case apiauth.GrantClientCredentials:
		issued, aerr, err = s.tokenFromClient(c, client, form)
	case apiauth.GrantRefreshToken:
		issued, aerr, err = s.tokenFromRefresh(c, client, form)
	}
	if err != nil {
		return err
	}
	if aerr != nil {
		return oauthError(c, aerr)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	return c.JSON(http.StatusOK, tokenResponse{AccessToken: issued.AccessToken, TokenType: "Bearer",
		ExpiresIn: int(issued.ExpiresIn.Seconds()), RefreshToken: issued.RefreshToken, Scope: apiauth.FormatScope(issued.Scopes)})
}

func (s *Server) tokenFromCode(c echo.Context, client store.APIClient, form url.Values) (store.IssuedTokens, *apiauth.Error, error) {
	code, verifier, redirect := form.Get("code"), form.Get("code_verifier"), form.Get("redirect_uri")
	switch {
	case code == "":
		return store.IssuedTokens{}, apiauth.Errorf(apiauth.ErrInvalidRequest, "code is missing"), nil
	case verifier == "":
		return store.IssuedTokens{}, apiauth.Errorf(apiauth.ErrInvalidRequest, "code_verifier is missing (PKCE, RFC 7636)"), nil
	}
	var refused *apiauth.Error
	issued, err := s.store.ExchangeAuthCode(c.Request().Context(), code, func(ac store.AuthCode) error {
		switch {
		case ac.ClientID != client.ID:
			refused = apiauth.Errorf(apiauth.ErrInvalidGrant, "the code was issued to another client")
		case ac.RedirectGiven && redirect != ac.RedirectURI, !ac.RedirectGiven && redirect != "" && redirect != ac.RedirectURI:
			refused = apiauth.Errorf(apiauth.ErrInvalidGrant, "redirect_uri differs from the authorization request's")
		case !apiauth.VerifyS256(verifier, ac.Challenge):
			refused = apiauth.Errorf(apiauth.ErrInvalidGrant, "code_verifier does not match the code_challenge")
		}
		if refused != nil {
			return errRefused
		}
		return nil
	})
	switch {
	case errors.Is(err, errRefused):
		return issued, refused, nil
	case errors.Is(err, store.ErrGrantInvalid):
		return issued, apiauth.Errorf(apiauth.ErrInvalidGrant, "the code is invalid or expired"), nil
	case errors.Is(err, store.ErrCodeReused):
		return issued, apiauth.Errorf(apiauth.ErrInvalidGrant, err.Error()), nil
	}
	return issued, nil, err
}

var errRefused = errors.New("refused")

// requestedScope reads an optional scope parameter: nil when absent.
func requestedScope(form url.Values, allowed []string) ([]string, *apiauth.Error) {
	if _, ok := form["scope"]; !ok {
		return nil, nil
	}
	scopes, ok := apiauth.ParseScope(form.Get("scope"))
	if !ok || len(scopes) == 0 {
		return nil, apiauth.Errorf(apiauth.ErrInvalidScope, "unknown scope; the scopes are "+strings.Join(apiauth.Scopes, " "))
	}
	if !apiauth.Subset(scopes, allowed) {
		return nil, apiauth.Errorf(apiauth.ErrInvalidScope, "the requested scope exceeds "+apiauth.FormatScope(allowed))
	}
	return scopes, nil
}

func (s *Server) tokenFromClient(c echo.Context, client store.APIClient, form url.Values) (store.IssuedTokens, *apiauth.Error, error) {
	scopes, aerr := requestedScope(form, client.Scopes)
	if aerr != nil {
		return store.IssuedTokens{}, aerr, nil
	}
	if scopes == nil {
		scopes = slices.Clone(client.Scopes)
	}
	issued, err := s.store.IssueClientCredentials(c.Request().Context(), client, scopes)
	return issued, nil, err
}

func (s *Server) tokenFromRefresh(c echo.Context, client store.APIClient, form url.Values) (store.IssuedTokens, *apiauth.Error, error) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return store.IssuedTokens{}, apiauth.Errorf(apiauth.ErrInvalidRequest, "refresh_token is missing"), nil
	}
	scopes, aerr := requestedScope(form, apiauth.Scopes)
	if aerr != nil {
		return store.IssuedTokens{}, aerr, nil
	}
	issued, err := s.store.RefreshTokens(c.Request().Context(), rt, client.ID, scopes)
	switch {
	case errors.Is(err, store.ErrGrantInvalid):
		return issued, apiauth.Errorf(apiauth.ErrInvalidGrant, "the refresh token is invalid, expired or revoked"), nil
	case errors.Is(err, store.ErrRefreshReused):
		return issued, apiauth.Errorf(apiauth.ErrInvalidGrant, err.Error()), nil
	case errors.Is(err, store.ErrScopeExceeds):
		return issued, apiauth.Errorf(apiauth.ErrInvalidScope, err.Error()), nil
	}
	return issued, nil, err
}

// revoke is the RFC 7009 revocation endpoint. An unknown token is answered
// 200 like a revoked one (§2.2); a token of another client is refused.
func (s *Server) revoke(c echo.Context) error {
	tok, client, aerr := s.clientTokenRequest(c)
	if aerr != nil {
		return oauthError(c, aerr)
	}
	// token_type_hint, known or not, is only a hint (§2.1): the token is
	// looked up anyway.
	_, other, err := s.store.RevokeToken(c.Request().Context(), tok, client.ID)
	if err != nil {
		return err
	}
	if other {
		return oauthError(c, apiauth.Errorf(apiauth.ErrUnauthorizedClient, "the token was issued to another client"))
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.NoContent(http.StatusOK)
}

// introspection is RFC 7662 §2.2.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Iss       string `json:"iss,omitempty"`
	// TokenKind says whether this is an access or a refresh token
	// (relaydesk's extension; token_type is the access token's type).
	TokenKind string `json:"relaydesk_token_kind,omitempty"`
}

// introspect is the RFC 7662 endpoint. Callers authenticate as a client: an
// application the admin allowed to introspect ("may introspect tokens")
// learns about any token; any other application only about its own, every
// other token being reported inactive.
func (s *Server) introspect(c echo.Context) error {
	tok, client, aerr := s.clientTokenRequest(c)
	if aerr != nil {
		return oauthError(c, aerr)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	ti, err := s.store.IntrospectToken(c.Request().Context(), tok)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!ti.Active || (ti.ClientRow != client.ID && !client.CanIntrospect))) {
		return c.JSON(http.StatusOK, introspection{Active: false})
	}
	if err != nil {
		return err
	}
	out := introspection{Active: true, Scope: apiauth.FormatScope(ti.Scopes), ClientID: ti.ClientID, Username: ti.AdminEmail,
		Exp: ti.ExpiresAt.Unix(), Iat: ti.IssuedAt.Unix(), Sub: ti.ClientID, Iss: s.publicBase(c), TokenKind: ti.Kind}
	if ti.Kind == "access_token" {
		out.TokenType = "Bearer"
	}
	return c.JSON(http.StatusOK, out)
}
