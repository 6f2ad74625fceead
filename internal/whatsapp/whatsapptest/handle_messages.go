package whatsapptest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// handleMessages serves sends and mark-as-read.
func (s *Server) handleMessages(x *exchange) {
	if !s.readBody(x, 4<<20) {
		return
	}
	var probe struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(x.body, &probe) == nil && probe.Status != "" {
		x.rec.Op = OpMarkRead
	}
	pnid, ok := s.admitNumber(x, specPathMessages)
	if !ok {
		return
	}
	var msg struct {
		To        string `json:"to"`
		Recipient string `json:"recipient"`
		Type      string `json:"type"`
		MessageID string `json:"message_id"`
		Text      *struct {
			Body string `json:"body"`
		} `json:"text"`
		Context *struct {
			MessageID string `json:"message_id"`
		} `json:"context"`
		TypingIndicator *struct {
			Type string `json:"type"`
		} `json:"typing_indicator"`
		Reaction *struct {
			MessageID string `json:"message_id"`
		} `json:"reaction"`
	}
	var media map[string]json.RawMessage
	if err := json.Unmarshal(x.body, &msg); err != nil {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", err.Error())
		return
	}
	if x.rec.Op == OpMarkRead {
		record(s, &s.reads, RecordedRead{PhoneNumberID: pnid, MessageID: msg.MessageID, Typing: msg.TypingIndicator != nil})
		writeJSON(x.w, http.StatusOK, map[string]any{"success": true})
		return
	}
	// A send names its customer by phone number in "to" or by
	// business-scoped user id in "recipient"; relaydesk always sends
	// exactly one (Graph takes "to" when both are sent).
	if (msg.To == "") == (msg.Recipient == "") {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter",
			"exactly one of to (a phone number) and recipient (a business-scoped user id) is required")
		return
	}
	if msg.Recipient != "" && (!whatsapp.IsBSUID(msg.Recipient) || strings.ContainsAny(msg.Recipient, " +")) {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", "recipient must be a business-scoped user id")
		return
	}
	if msg.To != "" && whatsapp.IsBSUID(msg.To) {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", "a business-scoped user id goes in recipient, not to")
		return
	}
	if msg.Type == whatsapp.TypeTemplate && msg.Recipient != "" && s.isAuthenticationTemplate(x.body) {
		s.graphError(x, http.StatusBadRequest, 131062, 0,
			"(#131062) Business-scoped User ID recipients are not supported for this message",
			"authentication templates require a phone number recipient")
		return
	}
	if msg.Type == whatsapp.TypeTemplate && !s.checkTemplateSend(x, pnid, x.body) {
		return
	}
	if msg.Context != nil && !s.checkReference(x, pnid, cmp.Or(msg.To, msg.Recipient), "context.message_id", msg.Context.MessageID) {
		return
	}
	if msg.Reaction != nil && !s.checkReference(x, pnid, cmp.Or(msg.To, msg.Recipient), "reaction.message_id", msg.Reaction.MessageID) {
		return
	}
	if whatsapp.IsMediaType(msg.Type) && json.Unmarshal(x.body, &media) == nil {
		var ref struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(media[msg.Type], &ref)
		if !s.checkMediaSend(x, msg.Type, ref.ID) {
			return
		}
	}
	rm := RecordedMessage{PhoneNumberID: pnid, ID: NewWAMID(), To: msg.To, Recipient: msg.Recipient, Type: msg.Type,
		Body: append(json.RawMessage(nil), x.body...)}
	if msg.Text != nil {
		rm.Text = msg.Text.Body
	}
	if msg.Context != nil {
		rm.ReplyTo = msg.Context.MessageID
	}
	s.mu.Lock()
	s.sentCount++
	// A service message takes the conversation back from another
	// responder (Meta's AI): Meta's standby webhook reference, "if your
	// app sends a service message while observing a conversation, it will
	// take over as the active handler". No thread control call is needed.
	if s.threadOwner[pnid+"/"+digits(msg.To)] != "" && msg.Type != whatsapp.TypeTemplate {
		s.threadOwner[pnid+"/"+digits(msg.To)] = whatsapp.OwnerApp
	}
	s.convOf[rm.ID] = conversationKey(pnid, cmp.Or(msg.To, msg.Recipient))
	s.mu.Unlock()
	record(s, &s.sent, rm)
	if s.opts.OnSent != nil {
		s.opts.OnSent(rm)
	}
	out := map[string]any{"id": rm.ID}
	if msg.Type == whatsapp.TypeTemplate {
		out["message_status"] = "accepted"
	}
	contact := map[string]any{"input": msg.To, "wa_id": digits(msg.To)}
	if msg.Recipient != "" {
		contact = map[string]any{"input": msg.Recipient, "user_id": msg.Recipient} // no wa_id for a BSUID send
	}
	writeJSON(x.w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]any{contact},
		"messages":          []map[string]any{out},
	})
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
