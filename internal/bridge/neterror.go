package bridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"os"
	"syscall"
)

// PlainNetError explains a failed connection in one sentence without the
// error chain (which repeats the URL and the host at each layer): a name
// that does not resolve, a refused connection, a timeout, a bad
// certificate. ok is false for other errors.
func PlainNetError(err error) (msg string, ok bool) {
	host := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
	}
	var dns *net.DNSError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		name := dns.Name
		if name == "" {
			name = host
		}
		if dns.IsNotFound {
			return "the name " + name + " does not exist in DNS: check the address for typing errors.", true
		}
		return "the name " + name + " could not be looked up in DNS (the DNS server did not answer): try again later.", true
	case errors.Is(err, syscall.ECONNREFUSED):
		return orAddress(host) + " refused the connection: nothing listens at that address and port.", true
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return orAddress(host) + " did not answer in time.", true
	case errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &invalid):
		return "the HTTPS certificate of " + orAddress(host) + " is not valid for it (self-signed, expired or for another name).", true
	case errors.As(err, &recordHeader):
		return orAddress(host) + " does not speak HTTPS on that port: check http:// or https:// and the port.", true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "the connection to " + orAddress(host) + " failed.", true
	}
	return "", false
}

func orAddress(host string) string {
	if host == "" {
		return "the server"
	}
	return host
}
