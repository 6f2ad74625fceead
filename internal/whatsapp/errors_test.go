package whatsapp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

func TestAPIErrorClass(t *testing.T) {
	t.Parallel()

	graph := func(status, code int) *whatsapp.APIError {
		return &whatsapp.APIError{HTTPStatus: status, GraphError: true, Code: code, Type: "OAuthException", Message: "m"}
	}
	tests := []struct {
		name     string
		err      *whatsapp.APIError
		class    whatsapp.Class
		wait     time.Duration
		explains string
	}{
		// Auth.
		{"190 token expired", graph(401, 190), whatsapp.ClassAuth, 0, "access token"},
		{"0 AuthException", graph(401, 0), whatsapp.ClassAuth, 0, "access token"},
		{"bare 401", &whatsapp.APIError{HTTPStatus: 401}, whatsapp.ClassAuth, 0, ""},
		// Wait, with default waits.
		{"130429 throughput", graph(400, 130429), whatsapp.ClassWait, 5 * time.Second, "at once"},
		{"131056 pair rate", graph(400, 131056), whatsapp.ClassWait, 15 * time.Second, "this customer"},
		{"80007 WABA rate", graph(400, 80007), whatsapp.ClassWait, 5 * time.Minute, "rate limit"},
		{"4 app rate", graph(400, 4), whatsapp.ClassWait, 5 * time.Minute, "rate limit"},
		{"4 as HTTP 429", graph(429, 4), whatsapp.ClassWait, 5 * time.Minute, "rate limit"},
		{"131048 spam rate", graph(400, 131048), whatsapp.ClassWait, time.Hour, "spam"},
		{"bare 429", &whatsapp.APIError{HTTPStatus: 429}, whatsapp.ClassWait, 30 * time.Second, ""},
		{"Retry-After wins", &whatsapp.APIError{HTTPStatus: 400, GraphError: true, Code: 130429, RetryAfter: 42 * time.Second}, whatsapp.ClassWait, 42 * time.Second, ""},
		// Retry.
		{"131000 something went wrong", graph(500, 131000), whatsapp.ClassRetry, 0, "temporary"},
		{"131016 service unavailable", graph(503, 131016), whatsapp.ClassRetry, 0, "temporary"},
		{"133004 server unavailable", graph(503, 133004), whatsapp.ClassRetry, 0, "temporary"},
		{"1 unknown", graph(400, 1), whatsapp.ClassRetry, 0, "temporary"},
		{"2 service", graph(503, 2), whatsapp.ClassRetry, 0, "temporary"},
		{"bare 502 from a proxy", &whatsapp.APIError{HTTPStatus: 502, Message: "<html>Bad Gateway</html>"}, whatsapp.ClassRetry, 0, "HTTP status 502"},
		{"unknown code with 5xx", graph(500, 999999), whatsapp.ClassRetry, 0, "999999"},
		{"5xx keeps Retry-After", &whatsapp.APIError{HTTPStatus: 503, RetryAfter: 10 * time.Second}, whatsapp.ClassRetry, 10 * time.Second, ""},
		{"is_transient flag", &whatsapp.APIError{HTTPStatus: 400, GraphError: true, Code: 999998, IsTransient: true}, whatsapp.ClassRetry, 0, ""},
		// Final.
		{"131047 re-engagement", graph(400, 131047), whatsapp.ClassFinal, 0, "older than 24 hours; WhatsApp only allows a template now"},
		{"131026 undeliverable", graph(400, 131026), whatsapp.ClassFinal, 0, "could not deliver"},
		{"131051 unsupported", graph(400, 131051), whatsapp.ClassFinal, 0, "does not support"},
		{"131053 media upload", graph(400, 131053), whatsapp.ClassFinal, 0, "file"},
		{"100 invalid parameter", graph(400, 100), whatsapp.ClassFinal, 0, "invalid"},
		{"131008 missing parameter", graph(400, 131008), whatsapp.ClassFinal, 0, "invalid"},
		{"131009 invalid value", graph(400, 131009), whatsapp.ClassFinal, 0, "invalid"},
		{"131021 to self", graph(400, 131021), whatsapp.ClassFinal, 0, "yourself"},
		{"132000 template params", graph(400, 132000), whatsapp.ClassFinal, 0, "variables"},
		{"132001 template missing", graph(404, 132001), whatsapp.ClassFinal, 0, "does not exist"},
		{"132015 template paused", graph(400, 132015), whatsapp.ClassFinal, 0, "paused"},
		{"132999 other template error", graph(400, 132999), whatsapp.ClassFinal, 0, "template"},
		{"368 policy block", graph(403, 368), whatsapp.ClassFinal, 0, "blocked"},
		{"131031 locked", graph(403, 131031), whatsapp.ClassFinal, 0, "locked"},
		{"3 capability, sent as HTTP 500", graph(500, 3), whatsapp.ClassFinal, 0, "permission"},
		{"10 permission", graph(403, 10), whatsapp.ClassFinal, 0, "permission"},
		{"200 permission range", graph(403, 200), whatsapp.ClassFinal, 0, "permission"},
		{"299 permission range", graph(403, 299), whatsapp.ClassFinal, 0, "permission"},
		{"133010 not registered", graph(400, 133010), whatsapp.ClassFinal, 0, "registered"},
		{"unknown code with 400", graph(400, 999999), whatsapp.ClassFinal, 0, "error code 999999"},
		{"bare 404", &whatsapp.APIError{HTTPStatus: 404}, whatsapp.ClassFinal, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.class, tt.err.Class())
			class, wait := whatsapp.Classify(tt.err)
			require.Equal(t, tt.class, class)
			require.Equal(t, tt.wait, wait)

			// Wrapped errors classify the same.
			class, wait = whatsapp.Classify(fmt.Errorf("send job: %w", tt.err))
			require.Equal(t, tt.class, class)
			require.Equal(t, tt.wait, wait)

			if tt.explains != "" {
				require.Contains(t, tt.err.PlainReason(), tt.explains)
			}
		})
	}
}

func TestClassifyNonAPIErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		err   error
		class whatsapp.Class
	}{
		{"nil", nil, whatsapp.ClassNone},
		{"deadline", context.DeadlineExceeded, whatsapp.ClassRetry},
		{"wrapped deadline", &url.Error{Op: "Post", URL: "https://graph.facebook.com/v23.0/1/messages", Err: context.DeadlineExceeded}, whatsapp.ClassRetry},
		{"canceled", context.Canceled, whatsapp.ClassRetry},
		{"connection reset", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, whatsapp.ClassRetry},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, whatsapp.ClassRetry},
		{"dropped connection", &url.Error{Op: "Post", URL: "u", Err: io.EOF}, whatsapp.ClassRetry},
		{"dns", &net.DNSError{Err: "no such host", Name: "graph.facebook.com"}, whatsapp.ClassRetry},
		{"invalid argument", fmt.Errorf("%w: text too long", whatsapp.ErrInvalidArgument), whatsapp.ClassFinal},
		{"unsupported media", whatsapp.ErrUnsupportedMediaType, whatsapp.ClassFinal},
		{"media too large", whatsapp.ErrMediaTooLarge, whatsapp.ClassFinal},
		{"media url rejected", whatsapp.ErrMediaURLRejected, whatsapp.ClassFinal},
		{"anything else", errors.New("boom"), whatsapp.ClassRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			class, wait := whatsapp.Classify(tt.err)
			require.Equal(t, tt.class, class)
			require.Zero(t, wait)
		})
	}
}

func TestClassStrings(t *testing.T) {
	t.Parallel()

	require.Equal(t, "retry", whatsapp.ClassRetry.String())
	require.Equal(t, "wait", whatsapp.ClassWait.String())
	require.Equal(t, "final", whatsapp.ClassFinal.String())
	require.Equal(t, "auth", whatsapp.ClassAuth.String())
	require.Equal(t, "none", whatsapp.ClassNone.String())
}

func TestPlainReason(t *testing.T) {
	t.Parallel()

	require.Equal(t, "The customer's last message is older than 24 hours; WhatsApp only allows a template now.", whatsapp.PlainReason(131047))
	// Every code gets a sentence; none leaks Go syntax or is empty.
	for _, code := range []int{0, 1, 2, 3, 4, 10, 100, 190, 250, 368, 80007, 130429, 130472, 131000, 131005, 131008,
		131009, 131016, 131021, 131026, 131031, 131047, 131048, 131049, 131050, 131051, 131052, 131053, 131056,
		132000, 132001, 132005, 132007, 132012, 132015, 132016, 132068, 133004, 133010, 42} {
		r := whatsapp.PlainReason(code)
		require.NotEmpty(t, r)
		require.True(t, strings.HasSuffix(r, "."), "code %d: %q", code, r)
		require.NotContains(t, r, "%!")
	}
}

func TestAPIErrorMessage(t *testing.T) {
	t.Parallel()

	e := &whatsapp.APIError{HTTPStatus: 400, GraphError: true, Code: 131047, Subcode: 2494010,
		Message: "(#131047) Re-engagement message", Details: "more than 24 hours", FBTraceID: "Abc"}
	require.Equal(t, "whatsapp: graph api error 131047/2494010 (http 400): (#131047) Re-engagement message: more than 24 hours [fbtrace_id Abc]", e.Error())

	bare := &whatsapp.APIError{HTTPStatus: 502, Message: "Bad Gateway"}
	require.Equal(t, "whatsapp: graph api error (http 502): Bad Gateway", bare.Error())
}
