package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/relaydesk/relaydesk/connectors"
)

// BaseURL is how every connector's New starts: it validates cfg against d
// and parses the helpdesk's base URL, cfg.BaseURL when set and fallback
// (built from the settings) otherwise. An unusable URL fails with badURL,
// after the connector kind.
func BaseURL(d connectors.Description, cfg connectors.Config, fallback, badURL string) (*url.URL, error) {
	if err := d.ValidateConnection(cfg.BaseURL, cfg.Settings, cfg.Credentials); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Kind, err)
	}
	raw := cfg.BaseURL
	if raw == "" {
		raw = fallback
	}
	base, ok := ParseBaseURL(raw)
	if !ok {
		return nil, errors.New(d.Kind + ": " + badURL)
	}
	return base, nil
}

// Scalar reads a JSON value helpdesks send as a string or a number: the
// string's content, the number's text, or "" for null.
func Scalar(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return "", nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	return string(b), nil
}
