package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

// oauthCallbackPath is where helpdesks send the admin back after consent.
const oauthCallbackPath = "/admin/oauth/callback"

// helpdeskConnect starts the OAuth2 authorization-code flow: a random state
// and a PKCE verifier are kept server-side (single use, expiring, bound to
// this session) and the admin is sent to the helpdesk's consent screen.
func (s *Server) helpdeskConnect(c echo.Context) error {
	conn, desc, err := s.loadConnection(c)
	if err != nil {
		return err
	}
	self := "/admin/helpdesks/" + idText(conn.ID)
	if desc.AuthMethod(conn.Settings) != connectors.AuthOAuth2 {
		return s.flash(c, self, "error", "This connection uses an API token.", "Choose OAuth under Authentication and save first.")
	}
	oc, err := s.oauthConnector(conn)
	if err != nil {
		return s.flash(c, self, "error", "The OAuth settings could not be used.", err.Error())
	}
	redirect := s.publicBase(c) + oauthCallbackPath
	state, verifier := randomText(32), oauth2.GenerateVerifier()
	if err := s.store.CreateOAuthState(c.Request().Context(), state,
		store.OAuthState{ConnectionID: conn.ID, Verifier: verifier, RedirectURL: redirect}, session(c).Hash, oauthStateTTL); err != nil {
		return err
	}
	opts := []oauth2.AuthCodeOption{oauth2.AccessTypeOffline}
	if oc.PKCE() {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	return s.leave(c, oc.OAuth2Config(redirect).AuthCodeURL(state, opts...), leaveView{
		Title: "Opening " + desc.DisplayName, Button: "Continue to " + desc.DisplayName,
		Message: "Sign in to " + desc.DisplayName + " and allow relaydesk; you come back here afterwards."})
}

// oauthConnector builds a connection's connector as an OAuth2Connector.
func (s *Server) oauthConnector(conn store.Connection) (connectors.OAuth2Connector, error) {
	cn, err := s.connector(conn)
	if err != nil {
		return nil, err
	}
	oc, ok := cn.(connectors.OAuth2Connector)
	if !ok {
		return nil, errors.New(conn.Kind + " connections cannot be connected with OAuth")
	}
	return oc, nil
}

// oauthCallback finishes the flow: the state must be live and belong to
// this session; the code is exchanged with the PKCE verifier, the token
// stored sealed, and the helpdesk-side webhook installed.
func (s *Server) oauthCallback(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := s.store.TakeOAuthState(ctx, c.QueryParam("state"), session(c).Hash)
	if errors.Is(err, store.ErrNotFound) {
		return s.errorPage(c, http.StatusBadRequest, "This authorization was already used, has expired (after 10 minutes), "+
			"or was started in another browser session. Open the helpdesk's page and press Connect again.")
	}
	if err != nil {
		return err
	}
	conn, err := s.store.ConnectionByID(ctx, st.ConnectionID)
	if err != nil {
		return notFoundOr(err)
	}
	reg, ok := connectors.Lookup(conn.Kind)
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	desc := reg.Description
	self := "/admin/helpdesks/" + idText(conn.ID)
	if e := c.QueryParam("error"); e != "" {
		why := c.QueryParam("error_description")
		if why == "" {
			why = e
		}
		return s.flash(c, self, "error", desc.DisplayName+" did not grant access.", why)
	}
	code := c.QueryParam("code")
	if code == "" {
		return s.flash(c, self, "error", desc.DisplayName+" sent no authorization code back.", "Press Connect to try again.")
	}
	oc, err := s.oauthConnector(conn)
	if err != nil {
		return s.flash(c, self, "error", "The OAuth settings could not be used.", err.Error())
	}
	var opts []oauth2.AuthCodeOption
	if oc.PKCE() {
		opts = append(opts, oauth2.VerifierOption(st.Verifier))
	}
	cctx, cancel := callCtx(c)
	defer cancel()
	tok, err := oc.OAuth2Config(st.RedirectURL).Exchange(context.WithValue(cctx, oauth2.HTTPClient, s.admin.http), code, opts...)
	if err != nil {
		err = connectors.Classify(err)
		kind, msg, detail := s.connectorFailure(cctx, conn, desc, err, desc.DisplayName+" refused to issue a token.")
		return s.flash(c, self, kind, msg, detail)
	}
	if err := s.store.ConnectOAuth(ctx, conn.ID, tok, s.actor(c)); err != nil {
		return err
	}
	if conn, err = s.store.ConnectionByID(ctx, conn.ID); err != nil {
		return err
	}
	saved := "Connected to " + desc.DisplayName + "."
	if conn.HasWebhookSecret() {
		_ = s.store.SetConnectionHealth(ctx, conn.ID, "healthy", "connected with OAuth")
		return s.flash(c, self, "success", saved, "")
	}
	kind, msg, detail := s.installWebhook(c, conn, desc, "installed", saved)
	return s.flash(c, self, kind, msg, detail)
}
