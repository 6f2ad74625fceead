package connectors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/relaydesk/relaydesk/connectors"
)

func TestHTTPError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status     int
		retryAfter string
		class      connectors.Class
		after      time.Duration
	}{
		{http.StatusTooManyRequests, "7", connectors.ClassRateLimited, 7 * time.Second},
		{http.StatusTooManyRequests, "", connectors.ClassRateLimited, 0},
		{http.StatusInternalServerError, "", connectors.ClassRetry, 0},
		{http.StatusServiceUnavailable, "30", connectors.ClassRetry, 30 * time.Second},
		{http.StatusBadGateway, "", connectors.ClassRetry, 0},
		{http.StatusConflict, "", connectors.ClassRetry, 0},
		{http.StatusRequestTimeout, "", connectors.ClassRetry, 0},
		{http.StatusUnauthorized, "", connectors.ClassAuth, 0},
		{http.StatusForbidden, "", connectors.ClassAuth, 0},
		{http.StatusNotFound, "", connectors.ClassNotFound, 0},
		{http.StatusGone, "", connectors.ClassNotFound, 0},
		{http.StatusBadRequest, "", connectors.ClassPermanent, 0},
		{http.StatusUnprocessableEntity, "", connectors.ClassPermanent, 0},
		{http.StatusRequestEntityTooLarge, "", connectors.ClassPermanent, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %q", tt.status, tt.retryAfter), func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			e := connectors.HTTPError(tt.status, h, "boom")
			require.Equal(t, tt.class, e.Class)
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.after, e.RetryAfter)
			require.Equal(t, tt.class, connectors.ClassOf(fmt.Errorf("wrapped: %w", e)))
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	require.Equal(t, 120*time.Second, connectors.ParseRetryAfter("120", now))
	require.Equal(t, 1500*time.Millisecond, connectors.ParseRetryAfter("1.5", now))
	require.Equal(t, 90*time.Second, connectors.ParseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, connectors.ParseRetryAfter(now.Add(-time.Hour).Format(http.TimeFormat), now))
	require.Zero(t, connectors.ParseRetryAfter("-3", now))
	require.Zero(t, connectors.ParseRetryAfter("soon", now))
	require.Zero(t, connectors.ParseRetryAfter("", now))
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestClassify(t *testing.T) {
	t.Parallel()
	require.NoError(t, connectors.Classify(nil))

	permanent := connectors.PermanentError("bad", nil)
	require.Same(t, permanent, connectors.Classify(permanent).(*connectors.Error), "classified errors pass through")

	tests := []struct {
		name  string
		err   error
		class connectors.Class
	}{
		{"deadline", context.DeadlineExceeded, connectors.ClassRetry},
		{"canceled", context.Canceled, connectors.ClassRetry},
		{"net timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, connectors.ClassRetry},
		{"connection reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, connectors.ClassRetry},
		{"connection refused", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, connectors.ClassRetry},
		{"truncated", io.ErrUnexpectedEOF, connectors.ClassRetry},
		{"unknown", errors.New("something odd"), connectors.ClassRetry},
		{"token refresh refused", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 400}, Body: []byte(`{"error":"invalid_grant","refresh_token":"rt-secret"}`), ErrorCode: "invalid_grant"}, connectors.ClassAuth},
		{"token endpoint down", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}, connectors.ClassRetry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := connectors.Classify(fmt.Errorf("get: %w", tt.err))
			require.Equal(t, tt.class, connectors.ClassOf(err))
			require.NotContains(t, err.Error(), "rt-secret")
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	t.Parallel()
	rl := fmt.Errorf("post: %w", connectors.RateLimitedError(5*time.Second, "slow down"))
	after, ok := connectors.IsRateLimited(rl)
	require.True(t, ok)
	require.Equal(t, 5*time.Second, after)
	require.True(t, connectors.IsRetryable(rl))
	require.False(t, connectors.IsPermanent(rl))

	_, ok = connectors.IsRateLimited(errors.New("plain"))
	require.False(t, ok)
	require.True(t, connectors.IsRetryable(errors.New("plain")), "unclassified errors are retried")
	require.False(t, connectors.IsRetryable(nil))
	require.False(t, connectors.IsAuth(nil))

	closed := &connectors.Error{Class: connectors.ClassPermanent, Status: 422, Message: "ticket 7 is closed", Err: connectors.ErrTicketClosed}
	require.ErrorIs(t, fmt.Errorf("add: %w", closed), connectors.ErrTicketClosed)
	require.True(t, connectors.IsPermanent(closed))
	require.Equal(t, "permanent (HTTP 422): ticket 7 is closed: ticket is closed", closed.Error())

	require.True(t, connectors.IsAuth(connectors.AuthError("revoked", nil)))
	require.True(t, connectors.IsNotFound(connectors.NewError(connectors.ClassNotFound, 404, "gone")))
	require.Equal(t, "rate_limited", connectors.ClassRateLimited.String())
}
