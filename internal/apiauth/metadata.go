package apiauth

// Endpoint paths, relative to the issuer (the service's base URL).
const (
	PathMetadata   = "/.well-known/oauth-authorization-server"
	PathAuthorize  = "/oauth/authorize"
	PathToken      = "/oauth/token"
	PathRevoke     = "/oauth/revoke"
	PathIntrospect = "/oauth/introspect"
)

// Metadata is the RFC 8414 authorization server metadata document.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ServiceDocumentation                       string   `json:"service_documentation,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// NewMetadata describes relaydesk's authorization server at issuer (the
// base URL, https, no query or fragment).
func NewMetadata(issuer string) Metadata {
	auth := []string{AuthBasic, AuthPost}
	return Metadata{
		Issuer:                                     issuer,
		AuthorizationEndpoint:                      issuer + PathAuthorize,
		TokenEndpoint:                              issuer + PathToken,
		RevocationEndpoint:                         issuer + PathRevoke,
		IntrospectionEndpoint:                      issuer + PathIntrospect,
		ScopesSupported:                            Scopes,
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{GrantAuthorizationCode, GrantClientCredentials, GrantRefreshToken},
		TokenEndpointAuthMethodsSupported:          auth,
		RevocationEndpointAuthMethodsSupported:     auth,
		IntrospectionEndpointAuthMethodsSupported:  auth,
		CodeChallengeMethodsSupported:              []string{MethodS256},
		ServiceDocumentation:                       issuer + "/api/v1/docs",
		AuthorizationResponseIssParameterSupported: true,
	}
}
