package apiauth

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Client authentication methods (RFC 8414 token_endpoint_auth_methods_supported).
const (
	AuthBasic = "client_secret_basic"
	AuthPost  = "client_secret_post"
)

// ClientCredentials is how a request authenticated its client.
type ClientCredentials struct {
	ID, Secret string
	// Method is AuthBasic or AuthPost.
	Method string
}

// ReadClientCredentials takes the client's credentials from the
// Authorization header (HTTP Basic with form-urlencoded id and secret,
// RFC 6749 §2.3.1) or from the client_id and client_secret form fields. A
// request using both methods, or repeating a field, is an invalid_request;
// one using neither is an invalid_client.
func ReadClientCredentials(r *http.Request, form url.Values) (ClientCredentials, *Error) {
	if n := len(form["client_id"]); n > 1 || len(form["client_secret"]) > 1 {
		return ClientCredentials{}, Errorf(ErrInvalidRequest, "client_id or client_secret is repeated")
	}
	h := r.Header.Get("Authorization")
	if h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return ClientCredentials{}, &Error{Code: ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
				Description: "authenticate the client with HTTP Basic (client_secret_basic) or client_secret_post"}
		}
		if form.Get("client_secret") != "" {
			return ClientCredentials{}, Errorf(ErrInvalidRequest, "use one client authentication method, not both")
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
		id, secret, ok := strings.Cut(string(raw), ":")
		if err != nil || !ok {
			return ClientCredentials{}, &Error{Code: ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
				Description: "malformed HTTP Basic credentials"}
		}
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return ClientCredentials{}, &Error{Code: ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
				Description: "malformed HTTP Basic credentials"}
		}
		if fid := form.Get("client_id"); fid != "" && fid != uid {
			return ClientCredentials{}, Errorf(ErrInvalidRequest, "client_id differs from the authenticated client")
		}
		return ClientCredentials{ID: uid, Secret: usecret, Method: AuthBasic}, nil
	}
	if form.Get("client_id") == "" || form.Get("client_secret") == "" {
		return ClientCredentials{}, &Error{Code: ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
			Description: "client authentication is required"}
	}
	return ClientCredentials{ID: form.Get("client_id"), Secret: form.Get("client_secret"), Method: AuthPost}, nil
}

// BadClient is the invalid_client answer to credentials that do not match:
// 401 with a Basic challenge (RFC 6749 §5.2: required when the client used
// the Authorization header; for client_secret_post it names the scheme the
// server supports, as every 401 must carry a challenge).
func BadClient(ClientCredentials) *Error {
	return &Error{Code: ErrInvalidClient, Status: http.StatusUnauthorized, Basic: true,
		Description: "client authentication failed"}
}
