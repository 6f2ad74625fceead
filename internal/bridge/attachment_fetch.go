package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/apievents"
)

// errAttachmentURL refuses an attachment URL relaydesk must not fetch.
var errAttachmentURL = errors.New("attachment URL refused")

// publicTransport connects only to public addresses (checked at connection
// time, so DNS rebinding cannot get around it) and ignores proxy settings.
var publicTransport = func() http.RoundTripper {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !apievents.PublicAddr(ap.Addr()) {
			return fmt.Errorf("%w: refusing to connect to non-public address %s", errAttachmentURL, ap.Addr())
		}
		return nil
	}}
	t := DefaultHTTPClient().Transport.(*http.Transport).Clone()
	t.DialContext = dialer.DialContext
	t.Proxy = nil
	return t
}()

// attachmentTransport sends requests for the helpdesk's own origin (which
// the admin configured, and which may well be on a private network) through
// the bridge's client, and every other request, redirects included, through
// publicTransport: a URL in a helpdesk webhook cannot make relaydesk fetch
// from its own network (cloud metadata, databases, admin pages) and send
// the answer to a WhatsApp customer.
type attachmentTransport struct {
	helpdesk *url.URL // nil when the connection names no base URL
	inner    http.RoundTripper
}

func (t attachmentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := checkAttachmentURL(r.URL); err != nil {
		return nil, err
	}
	if t.helpdesk != nil && strings.EqualFold(r.URL.Scheme, t.helpdesk.Scheme) && sameHost(r.URL, t.helpdesk) {
		return t.inner.RoundTrip(r)
	}
	return publicTransport.RoundTrip(r)
}

func checkAttachmentURL(u *url.URL) error {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w: scheme %q", errAttachmentURL, u.Scheme)
	case u.User != nil:
		return fmt.Errorf("%w: credentials in the URL", errAttachmentURL)
	case u.Hostname() == "":
		return fmt.Errorf("%w: no host", errAttachmentURL)
	}
	return nil
}

// sameHost compares hosts and ports, with the scheme's default port.
func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// helpdeskOrigin is the connection's configured base URL, if any.
func helpdeskOrigin(conn *connection) *url.URL {
	if conn == nil {
		return nil
	}
	raw := conn.row.BaseURL
	if raw == "" {
		raw = connectors.AsString(conn.row.Settings["base_url"])
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil
	}
	return u
}

// openAttachmentURL downloads an attachment by its URL, for connectors
// without an AttachmentFetcher. No credentials are sent.
func (b *Bridge) openAttachmentURL(ctx context.Context, conn *connection, raw string) (io.ReadCloser, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errAttachmentURL, err)
	}
	if err := checkAttachmentURL(u); err != nil {
		return nil, err
	}
	inner := b.http.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	hc := &http.Client{Transport: attachmentTransport{helpdesk: helpdeskOrigin(conn), inner: inner}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download attachment: HTTP %d", resp.StatusCode)
	}
	return resp.Body, nil
}
