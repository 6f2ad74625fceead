package apiauth

import (
	"net/url"
	"slices"
	"strings"
)

// The API's scopes.
const (
	ScopeChatsRead      = "chats:read"
	ScopeMessagesRead   = "messages:read"
	ScopeMessagesSend   = "messages:send"
	ScopeContactsRead   = "contacts:read"
	ScopeContactsErase  = "contacts:erase"
	ScopeWebhooksManage = "webhooks:manage"
)

// Scopes lists every scope, in the order the admin page shows them.
var Scopes = []string{ScopeChatsRead, ScopeMessagesRead, ScopeMessagesSend, ScopeContactsRead, ScopeContactsErase, ScopeWebhooksManage}

// ScopeDescriptions says in plain words what each scope allows (consent page).
var ScopeDescriptions = map[string]string{
	ScopeChatsRead:      "List and read WhatsApp chats and their linked tickets",
	ScopeMessagesRead:   "Read the messages of chats, both directions, and download their media",
	ScopeMessagesSend:   "Send WhatsApp messages (text, media by link, templates) on your numbers",
	ScopeContactsRead:   "Read customers' WhatsApp profile names and numbers",
	ScopeContactsErase:  "Erase a customer's data for good (an erasure request), here and, when asked, in the helpdesk",
	ScopeWebhooksManage: "Subscribe an HTTPS endpoint to new messages, delivery statuses and ticket links",
}

// Grant types.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
)

// GrantTypes lists the grant types an application may be allowed. A refresh
// token comes with the authorization code grant.
var GrantTypes = []string{GrantAuthorizationCode, GrantClientCredentials}

// KnownScope reports whether s is one of the API's scopes.
func KnownScope(s string) bool { return slices.Contains(Scopes, s) }

// ParseScope splits a scope parameter (RFC 6749 §3.3: space-delimited,
// case-sensitive) into a sorted, de-duplicated list; extra spaces are
// tolerated. It reports false when a token is not one of the API's scopes.
func ParseScope(param string) ([]string, bool) {
	var out []string
	for _, s := range strings.Split(param, " ") {
		if s == "" {
			continue // tolerate repeated spaces between tokens
		}
		if !KnownScope(s) {
			return nil, false
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, true
}

// FormatScope joins scopes for a scope parameter or response.
func FormatScope(scopes []string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	return strings.Join(s, " ")
}

// Subset reports whether every scope of want is in have.
func Subset(want, have []string) bool {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}

// ValidRedirectURI checks a redirect URI an admin registers: absolute,
// without a fragment (RFC 6749 §3.1.2), https or, for native apps and local
// development, http on a loopback host (RFC 8252 §7.3).
func ValidRedirectURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Fragment != "" || strings.Contains(s, "#") || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}
