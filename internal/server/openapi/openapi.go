// Package openapi embeds the hand-written OpenAPI 3.1 description of
// relaydesk's public API (openapi.yaml). The server serves it as JSON at
// /api/v1/openapi.json and renders the reference page /api/v1/docs from it;
// a test checks that it and the route table agree and that real responses
// validate against it.
package openapi

import _ "embed"

// YAML is the OpenAPI document.
//
//go:embed openapi.yaml
var YAML []byte
