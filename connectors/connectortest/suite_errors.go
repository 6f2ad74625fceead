package connectortest

// The suite's checks of error classification and optional capabilities.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

// failing runs one call against a fake failing with f and returns its error.
func (s *suite) failing(t *testing.T, f Failure) error {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	if f == FailTimeout {
		hc.Timeout = 250 * time.Millisecond
	}
	b := s.setupWith(t, hc)
	b.f.FailNext(1, f)
	_, err := b.c.GetTicket(b.ctx, "424242")
	require.Error(t, err)
	for _, secret := range s.h.Secrets {
		if secret != "" {
			require.NotContains(t, err.Error(), secret, "error message leaks a credential")
		}
	}
	return err
}

func (s *suite) testErrors(t *testing.T) {
	t.Parallel()

	t.Run("429 is rate limited with Retry-After", func(t *testing.T) {
		t.Parallel()
		err := s.failing(t, FailRateLimited)
		after, ok := connectors.IsRateLimited(err)
		require.True(t, ok, "class %s: %v", connectors.ClassOf(err), err)
		require.Equal(t, RateLimitRetryAfter, after)
		require.True(t, connectors.IsRetryable(err))
	})

	tests := []struct {
		failure Failure
		class   connectors.Class
	}{
		{FailServerError, connectors.ClassRetry},
		{FailTimeout, connectors.ClassRetry},
		{FailUnauthorized, connectors.ClassAuth},
	}
	for _, tt := range tests {
		t.Run(tt.failure.String()+" is "+tt.class.String(), func(t *testing.T) {
			t.Parallel()
			err := s.failing(t, tt.failure)
			require.Equal(t, tt.class, connectors.ClassOf(err), "%v", err)
		})
	}

	s.withTicket(t, "the next call succeeds after a failure", func(t *testing.T, b *bundle, tid, rid string) {
		b.f.FailNext(1, FailServerError)
		_, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.X1", "retry me"))
		require.True(t, connectors.IsRetryable(err), "%v", err)
		_, err = b.c.AddMessage(b.ctx, tid, rid, message("wamid.X1", "retry me"))
		require.NoError(t, err)
		require.Len(t, b.f.Comments(tid), 2)
	})

	s.run(t, "a rate-limited write is classified", func(t *testing.T, b *bundle) {
		b.f.FailNext(1, FailRateLimited)
		_, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: newPhone(), Name: "X"})
		after, ok := connectors.IsRateLimited(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, RateLimitRetryAfter, after)
	})
}

func (s *suite) testCapabilities(t *testing.T) {
	t.Parallel()

	s.run(t, "Tester", func(t *testing.T, b *bundle) {
		tester := implements[connectors.Tester](t, b.c, "Tester")
		require.NoError(t, tester.Test(b.ctx))
		b.f.FailNext(1, FailUnauthorized)
		err := tester.Test(b.ctx)
		require.True(t, connectors.IsAuth(err), "%v", err)
	})

	s.run(t, "MessageFinder", func(t *testing.T, b *bundle) {
		finder := implements[connectors.MessageFinder](t, b.c, "MessageFinder")
		tid, rid := b.ticket(t)
		m := message("wamid.M1", "did this land?")
		_, found, err := finder.FindMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		require.False(t, found)
		id, err := b.c.AddMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		b.f.AgentReply(tid, "an agent answer in between")
		got, found, err := finder.FindMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, id, got)
	})

	s.withTicket(t, "agent attachments reach the bridge", func(t *testing.T, b *bundle, tid, _ string) {
		f := file("label.pdf", "application/pdf", 1500)
		cid := b.f.AgentReply(tid, "here is your label", f)
		e := b.parse(t, b.f.CommentDelivery(tid, cid), cid)
		if h, ok := b.c.(connectors.EventHydrator); ok {
			var err error
			e, err = h.HydrateEvent(b.ctx, e)
			require.NoError(t, err)
		}
		require.Len(t, e.Attachments, 1)
		require.Equal(t, f.Filename, e.Attachments[0].Filename)
		require.Equal(t, f.ContentType, e.Attachments[0].ContentType)
		fetcher, ok := b.c.(connectors.AttachmentFetcher)
		if !ok {
			return
		}
		rc, ct, err := fetcher.OpenAttachment(b.ctx, e.Attachments[0])
		require.NoError(t, err)
		defer rc.Close()
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.Equal(t, f.Data, data)
		require.Equal(t, f.ContentType, ct)
	})

	s.run(t, "WebhookInstaller", func(t *testing.T, b *bundle) {
		inst := implements[connectors.WebhookInstaller](t, b.c, "WebhookInstaller")
		const callback = "https://relaydesk.example/webhooks/helpdesk/7"
		secret, err := inst.InstallWebhook(b.ctx, callback)
		require.NoError(t, err)
		require.Equal(t, b.f.WebhookSecret(), secret)
		again, err := inst.InstallWebhook(b.ctx, callback)
		require.NoError(t, err)
		require.Equal(t, secret, again)
		require.NoError(t, inst.UninstallWebhook(b.ctx, callback))
		require.NoError(t, inst.UninstallWebhook(b.ctx, callback))
	})

	s.run(t, "errors stay classified through wrapping", func(t *testing.T, b *bundle) {
		_, err := b.c.GetTicket(b.ctx, "987654321")
		wrapped := fmt.Errorf("bridge: %w", err)
		require.True(t, connectors.IsNotFound(wrapped))
		var ce *connectors.Error
		require.True(t, errors.As(wrapped, &ce))
	})
}
