package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCallOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code int
		err  error
		want string
	}{
		{200, nil, "ok"}, {204, nil, "ok"}, {401, nil, "auth"}, {403, nil, "auth"}, {429, nil, "rate_limited"},
		{404, nil, "client_error"}, {500, nil, "server_error"}, {503, nil, "server_error"},
		{0, context.DeadlineExceeded, "timeout"}, {0, fmt.Errorf("get: %w", context.DeadlineExceeded), "timeout"},
		{0, errors.New("connection refused"), "network"},
	}
	for _, tt := range tests {
		var resp *http.Response
		if tt.err == nil {
			resp = &http.Response{StatusCode: tt.code}
		}
		require.Equal(t, tt.want, CallOutcome(resp, tt.err), "%d %v", tt.code, tt.err)
	}
}

func TestCallClientObservesEveryCall(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	var seen []string
	b := New(Opts{ObserveCall: func(target, name, outcome string, took time.Duration) {
		seen = append(seen, target+" "+name+" "+outcome)
	}})
	resp, err := b.callClient(CallHelpdesk, "zendesk").Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, []string{"helpdesk zendesk auth"}, seen)

	plain := New(Opts{})
	require.Same(t, plain.http, plain.callClient(CallGraph, "n"), "no observer, no wrapper")
}
