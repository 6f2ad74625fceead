package whatsapptest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// SetNumberWABA files business number phoneNumberID under the WhatsApp
// Business Account wabaID: its template sends are checked against that
// account's catalogue only (SetTemplates), as Graph checks them. A number
// not filed belongs to FixtureWABAID, the WABA NewDelivery uses.
func (s *Server) SetNumberWABA(phoneNumberID, wabaID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numberWABA[phoneNumberID] = wabaID
}

// wabaOf is the WABA of a business number; the caller holds s.mu.
func (s *Server) wabaOf(phoneNumberID string) string {
	if w, ok := s.numberWABA[phoneNumberID]; ok {
		return w
	}
	return FixtureWABAID
}

// Received tells the fake about the customer messages of a webhook
// delivery (as if WhatsApp had carried them to the business), so that a
// reply quoting one (context.message_id) or a reaction to one names a
// message of that conversation. Messages the fake accepted for sending are
// known without this.
func (s *Server) Received(d *Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range d.groups {
		for _, m := range g.messages {
			id, _ := m["id"].(string)
			from, _ := m["from"].(string)
			if id != "" && from != "" {
				s.convOf[id] = conversationKey(g.phoneNumberID, from)
			}
		}
	}
}

func conversationKey(phoneNumberID, to string) string { return phoneNumberID + "/" + digits(to) }

// checkReference answers Graph's invalid-parameter error and reports false
// when a send names (as context.message_id, or the message a reaction
// answers) a message that is not one of the conversation between number
// pnid and recipient to. Graph does not document this answer; the fake is
// strict so that a wrong wamid fails a test instead of quoting nothing.
func (s *Server) checkReference(x *exchange, pnid, to, field, wamid string) bool {
	if wamid == "" {
		return true
	}
	s.mu.Lock()
	conv, known := s.convOf[wamid]
	s.mu.Unlock()
	if known && conv == conversationKey(pnid, to) {
		return true
	}
	// A customer addressed by business-scoped user id: the fake cannot
	// tell which phone it stands for, so a message of any conversation of
	// the number will do.
	if known && whatsapp.IsBSUID(to) && strings.HasPrefix(conv, pnid+"/") {
		return true
	}
	why := "is not a message the fake knows"
	if known {
		why = "is a message of another conversation (" + conv + ")"
	}
	s.graphError(x, http.StatusBadRequest, 131009, 0, "(#131009) Parameter value is not valid",
		fmt.Sprintf("%s %s %s", field, wamid, why))
	return false
}

// AddInbound records wamids as customer waID's messages to business number
// phoneNumberID, like Received for messages not built with a Delivery.
func (s *Server) AddInbound(phoneNumberID, waID string, wamids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range wamids {
		s.convOf[id] = conversationKey(phoneNumberID, waID)
	}
}
