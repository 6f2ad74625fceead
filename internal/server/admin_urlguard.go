package server

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/connectors"
)

// The admin page sends stored secrets (a number's access token, a
// helpdesk's credentials) to the URLs it is given. Two rules keep an admin
// (or whoever holds their session) from reading those write-only secrets
// back: a changed address needs the secrets typed again, and an address on
// this machine (loopback) or the link-local network (cloud metadata
// services) is refused unless RELAYDESK_ALLOW_PRIVATE_URLS is set, for
// tests and demos whose fakes listen on 127.0.0.1.

// lookupTimeout bounds the DNS lookup of a typed URL's host.
const lookupTimeout = 3 * time.Second

// origin is a URL's scheme and host (with port): where its requests go.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// localURLProblem says, as a sentence, why raw may not be used (its host
// is or resolves to a loopback, link-local or unspecified address), or "".
// A host that does not resolve is not refused here: testing the connection
// reports it.
func (s *Server) localURLProblem(ctx context.Context, raw string) string {
	if s.opts.AllowPrivateURLs || raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	const refusal = "This address is on this machine or its local link, where relaydesk does not send credentials. " +
		"Use the service's public address (set RELAYDESK_ALLOW_PRIVATE_URLS=true only for tests and demos)."
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return refusal
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if localAddr(ip) {
			return refusal
		}
		return ""
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil {
		return ""
	}
	for _, ip := range addrs {
		if localAddr(ip) {
			return refusal
		}
	}
	return ""
}

func localAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() ||
		ip.IsInterfaceLocalMulticast()
}

// movedSecretMessage is the field error of a stored secret not typed again
// after its address changed.
func movedSecretMessage(what string) string {
	return "You changed where relaydesk connects, so enter the " + what + " again: a stored secret is never sent to a new address."
}

// addressFieldName is the form field that names a connection's address:
// base_url when it is set, else the connector's address field.
func addressFieldName(desc connectors.Description, baseURL string) string {
	if f, ok := desc.AddressField(); ok && baseURL == "" {
		return settingName(f)
	}
	return "base_url"
}

// keptCredentials is what a changed helpdesk form keeps of the stored
// credentials: all of them when the address is the same, only the
// non-secret ones (an API user's email) when it moved.
func keptCredentials(desc connectors.Description, stored map[string]string, moved bool) map[string]string {
	if !moved {
		return stored
	}
	out := map[string]string{}
	for k, v := range stored {
		if fd, ok := desc.Field(k); ok && fd.Type != connectors.FieldSecret && !fd.Secret {
			out[k] = v
		}
	}
	return out
}

// requireMovedSecrets marks every secret credential of the chosen auth
// method that was stored but not typed again after the address moved.
func (f *connectionForm) requireMovedSecrets(stored map[string]string) {
	method := f.desc.AuthMethod(f.Settings)
	for _, fd := range f.desc.Fields {
		if fd.Group != connectors.GroupCredentials || (fd.Type != connectors.FieldSecret && !fd.Secret) ||
			stored[fd.Key] == "" || f.Credentials[fd.Key] != "" {
			continue
		}
		if len(fd.AuthMethods) > 0 && !containsMethod(fd.AuthMethods, method) {
			continue
		}
		f.Errors[settingName(fd)] = movedSecretMessage("“" + fd.Label + "”")
	}
}

// connectionURLAllowed refuses a helpdesk address on this machine or its
// local link, marking the field that names it.
func (s *Server) connectionURLAllowed(c echo.Context, f *connectionForm) bool {
	if msg := s.localURLProblem(c.Request().Context(), f.desc.BaseURL(f.BaseURL, f.Settings)); msg != "" {
		f.Errors[addressFieldName(f.desc, f.BaseURL)] = msg
		return false
	}
	return true
}
