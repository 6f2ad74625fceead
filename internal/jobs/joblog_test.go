package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

func TestJobLogNamesTheConversation(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := &jobLog{log: slog.New(slog.NewTextHandler(&buf, nil))}
	job := &rivertype.JobRow{ID: 9, Kind: "deliver_inbound", Attempt: 2, EncodedArgs: []byte(`{"conversation_id":42}`)}

	require.NoError(t, l.Work(context.Background(), job, func(context.Context) error { return nil }))
	require.Empty(t, buf.String(), "a success is not logged")

	err := l.Work(context.Background(), job, func(context.Context) error { return errors.New("helpdesk said 503") })
	require.Error(t, err)
	require.Contains(t, buf.String(), "conversation_id=42")
	require.Contains(t, buf.String(), "kind=deliver_inbound")
}
