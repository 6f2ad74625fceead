package store

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// APISend is what a public-API send asked for beyond its text (column
// messages.api_send): a media link or a template.
type APISend struct {
	Type     string          `json:"type"`
	Link     string          `json:"link,omitempty"`
	Caption  string          `json:"caption,omitempty"`
	Filename string          `json:"filename,omitempty"`
	Template json.RawMessage `json:"template,omitempty"`
}

// MessageError is why a message failed or waits (column messages.error):
// either relaydesk's own Reason (and Code), or the errors WhatsApp reported
// in a failed status. Its JSON is what the column has always held, and what
// the public API shows as "error": {"code":..,"reason":..} for the first,
// the array of WhatsApp errors for the second.
type MessageError struct {
	// Code is a stable code for relaydesk's own reason ("" when none).
	Code string
	// Reason explains relaydesk's own reason.
	Reason string
	// WhatsApp holds the errors of a failed status; when set, Code and
	// Reason are empty.
	WhatsApp []whatsapp.Error
}

// Failure returns relaydesk's own reason for a message.
func Failure(code, reason string) *MessageError {
	return &MessageError{Code: code, Reason: reason}
}

type ownError struct {
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// MarshalJSON writes the error in the column's shape.
func (e MessageError) MarshalJSON() ([]byte, error) {
	if e.WhatsApp == nil {
		return json.Marshal(ownError{Code: e.Code, Reason: e.Reason})
	}
	// Meta's own shape, as the failed status carried it (whatsapp.Error's
	// MarshalJSON): the column has always held it, and the API shows it.
	return json.Marshal(e.WhatsApp)
}

// UnmarshalJSON reads either shape.
func (e *MessageError) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var in []whatsapp.Error
		if err := json.Unmarshal(b, &in); err != nil {
			return fmt.Errorf("decode whatsapp errors: %w", err)
		}
		*e = MessageError{WhatsApp: in}
		return nil
	}
	var own ownError
	if err := json.Unmarshal(b, &own); err != nil {
		return fmt.Errorf("decode message error: %w", err)
	}
	*e = MessageError{Code: own.Code, Reason: own.Reason}
	return nil
}

// jsonArg encodes v for a jsonb parameter: SQL NULL for nil (or an empty
// slice or map), so that no column ever holds JSON null.
func jsonArg(v any) (*string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	switch string(b) {
	case "null", "[]", "{}":
		return nil, nil
	}
	s := string(storableJSON(b))
	return &s, nil
}
