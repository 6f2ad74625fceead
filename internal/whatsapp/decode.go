package whatsapp

import "encoding/json"

// DecodeMessage decodes one stored message JSON (Message.Raw) back into the
// model, exactly as ParseDelivery does for each messages[] item.
func DecodeMessage(raw json.RawMessage) Message {
	return decodeMessage(raw)
}
