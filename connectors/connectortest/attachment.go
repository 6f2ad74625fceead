package connectortest

import (
	"bytes"
	"context"
	"io"

	"github.com/relaydesk/relaydesk/connectors"
)

// BytesAttachment is an attachment whose content is data, announced as
// size bytes (which a test may set to another length than len(data), or to
// -1 for unknown). Every Open returns a fresh reader.
func BytesAttachment(name, contentType string, data []byte, size int64) connectors.Attachment {
	return connectors.Attachment{
		Filename: name, ContentType: contentType, Size: size,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
	}
}
