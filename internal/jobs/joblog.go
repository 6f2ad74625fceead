package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// jobLog writes one line per job that did not succeed, with the
// conversation or message it worked on (from its arguments), so a job's
// failure can be found next to the request logs of the same conversation.
// River's own log names only the job.
type jobLog struct {
	river.MiddlewareDefaults
	log *slog.Logger
}

// jobSubject is what a job's arguments name (see bridge/args.go).
type jobSubject struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
}

// Work implements rivertype.WorkerMiddleware.
func (l *jobLog) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	err := doInner(ctx)
	var snooze *rivertype.JobSnoozeError
	if err == nil || l.log == nil || errors.As(err, &snooze) {
		return err
	}
	attrs := []slog.Attr{slog.String("kind", job.Kind), slog.Int64("job_id", job.ID), slog.Int("attempt", job.Attempt),
		slog.String("err", err.Error())}
	var s jobSubject
	if json.Unmarshal(job.EncodedArgs, &s) == nil {
		if s.ConversationID != 0 {
			attrs = append(attrs, slog.Int64("conversation_id", s.ConversationID))
		}
		if s.MessageID != 0 {
			attrs = append(attrs, slog.Int64("message_id", s.MessageID))
		}
	}
	l.log.LogAttrs(ctx, slog.LevelWarn, "job did not succeed", attrs...)
	return err
}
