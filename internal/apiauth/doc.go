// Package apiauth is the protocol side of relaydesk's public API: the narrow
// subset of OAuth 2.0 that relaydesk implements as an authorization server
// (RFC 6749 authorization code and client credentials grants with rotating
// refresh tokens, RFC 7636 PKCE with S256 only, RFC 7009 revocation, RFC 7662
// introspection, RFC 8414 metadata), the API's scopes, and the signature of
// event deliveries. It holds no state and does no I/O: internal/store keeps
// clients, grants and tokens, and internal/server speaks HTTP.
//
// Every credential relaydesk issues (client secrets, authorization codes,
// access and refresh tokens) is 32 random bytes, base64url-encoded behind a
// short prefix that names its kind, and only its SHA-256 is stored.
package apiauth
