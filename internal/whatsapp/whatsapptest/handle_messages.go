package whatsapptest

import (
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
		Type      string `json:"type"`
		MessageID string `json:"message_id"`
		Text      *struct {
			Body string `json:"body"`
		} `json:"text"`
		Context *struct {
			MessageID string `json:"message_id"`
		} `json:"context"`
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
		record(s, &s.reads, RecordedRead{PhoneNumberID: pnid, MessageID: msg.MessageID})
		writeJSON(x.w, http.StatusOK, map[string]any{"success": true})
		return
	}
	if msg.Type == whatsapp.TypeTemplate && !s.checkTemplateSend(x, pnid, x.body) {
		return
	}
	if msg.Context != nil && !s.checkReference(x, pnid, msg.To, "context.message_id", msg.Context.MessageID) {
		return
	}
	if msg.Reaction != nil && !s.checkReference(x, pnid, msg.To, "reaction.message_id", msg.Reaction.MessageID) {
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
	rm := RecordedMessage{PhoneNumberID: pnid, ID: NewWAMID(), To: msg.To, Type: msg.Type, Body: append(json.RawMessage(nil), x.body...)}
	if msg.Text != nil {
		rm.Text = msg.Text.Body
	}
	if msg.Context != nil {
		rm.ReplyTo = msg.Context.MessageID
	}
	s.mu.Lock()
	s.sentCount++
	s.convOf[rm.ID] = conversationKey(pnid, msg.To)
	s.mu.Unlock()
	record(s, &s.sent, rm)
	if s.opts.OnSent != nil {
		s.opts.OnSent(rm)
	}
	out := map[string]any{"id": rm.ID}
	if msg.Type == whatsapp.TypeTemplate {
		out["message_status"] = "accepted"
	}
	writeJSON(x.w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]any{{"input": msg.To, "wa_id": digits(msg.To)}},
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
