// Package msgconv converts WhatsApp messages for helpdesk agents and back:
// readable renderings, ticket subjects, media kinds and attachment names.
// It is pure: no database, no network.
package msgconv

import (
	"fmt"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Render writes a customer message as readable text for an agent. Media
// messages render their caption (the file travels as an attachment); every
// other type gets a plain description so nothing reaches the agent as an
// empty or cryptic comment.
func Render(m whatsapp.Message) string {
	var b strings.Builder
	if c := m.Context; c != nil {
		switch {
		case c.FrequentlyForwarded:
			b.WriteString("[Forwarded many times]\n")
		case c.Forwarded:
			b.WriteString("[Forwarded]\n")
		}
		if c.ReferredProduct != nil {
			fmt.Fprintf(&b, "[Asking about product %s]\n", c.ReferredProduct.ProductRetailerID)
		}
		if c.ID != "" && m.Type != whatsapp.TypeReaction && m.Type != whatsapp.TypeInteractive && m.Type != whatsapp.TypeButton {
			b.WriteString("[Reply to an earlier message]\n")
		}
	}
	b.WriteString(renderBody(m))
	if r := m.Referral; r != nil {
		b.WriteString("\n\n[Came from ")
		if r.SourceType == "post" {
			b.WriteString("a Facebook/Instagram post")
		} else {
			b.WriteString("an ad")
		}
		if r.Headline != "" {
			fmt.Fprintf(&b, ": %q", r.Headline)
		}
		if r.SourceURL != "" {
			b.WriteString(" " + r.SourceURL)
		}
		b.WriteString("]")
	}
	return strings.TrimSpace(b.String())
}

func renderBody(m whatsapp.Message) string {
	switch m.Type {
	case whatsapp.TypeText:
		return m.Text
	case whatsapp.TypeImage, whatsapp.TypeVideo, whatsapp.TypeDocument, whatsapp.TypeAudio, whatsapp.TypeSticker:
		if m.Media != nil && m.Media.Caption != "" {
			return m.Media.Caption
		}
		switch {
		case m.Type == whatsapp.TypeAudio && m.Media != nil && m.Media.Voice:
			return "(voice message)"
		case m.Type == whatsapp.TypeDocument && m.Media != nil && m.Media.Filename != "":
			return "(document: " + m.Media.Filename + ")"
		}
		return "(" + m.Type + ")"
	case whatsapp.TypeLocation:
		l := m.Location
		if l == nil {
			return "(location)"
		}
		var parts []string
		for _, s := range []string{l.Name, l.Address} {
			if s != "" {
				parts = append(parts, s)
			}
		}
		place := strings.Join(parts, ", ")
		if place != "" {
			place = ": " + place
		}
		return fmt.Sprintf("Shared a location%s\nhttps://www.google.com/maps/search/?api=1&query=%.6f,%.6f", place, l.Lat, l.Lng)
	case whatsapp.TypeContacts:
		var b strings.Builder
		b.WriteString("Shared contact card")
		if len(m.Contacts) > 1 {
			b.WriteString("s")
		}
		b.WriteString(":")
		for _, c := range m.Contacts {
			b.WriteString("\n- " + c.FormattedName)
			for _, p := range c.Phones {
				b.WriteString(", " + p.Phone)
			}
			for _, e := range c.Emails {
				b.WriteString(", " + e.Email)
			}
			if c.Org.Company != "" {
				b.WriteString(" (" + c.Org.Company + ")")
			}
		}
		return b.String()
	case whatsapp.TypeInteractive:
		i := m.Interactive
		if i == nil {
			return "(interactive reply)"
		}
		if i.Type == "nfm_reply" {
			return fmt.Sprintf("Submitted form %q: %s", i.FlowName, i.FlowResponseJSON)
		}
		s := "Chose: " + i.Title
		if i.Description != "" {
			s += " (" + i.Description + ")"
		}
		return s
	case whatsapp.TypeButton:
		if m.Button == nil {
			return "(button)"
		}
		return "Tapped: " + m.Button.Text
	case whatsapp.TypeReaction:
		if m.Reaction == nil || m.Reaction.Removed {
			return "Removed a reaction"
		}
		return "Reacted " + m.Reaction.Emoji + " to a message"
	case whatsapp.TypeOrder:
		o := m.Order
		if o == nil {
			return "(order)"
		}
		var b strings.Builder
		b.WriteString("Placed an order")
		if o.Text != "" {
			b.WriteString(": " + o.Text)
		}
		var total float64
		currency := ""
		for _, it := range o.Items {
			fmt.Fprintf(&b, "\n- %d x %s at %.2f %s", it.Quantity, it.ProductRetailerID, it.ItemPrice, it.Currency)
			total += float64(it.Quantity) * it.ItemPrice
			currency = it.Currency
		}
		if len(o.Items) > 0 {
			fmt.Fprintf(&b, "\nTotal: %.2f %s", total, currency)
		}
		return b.String()
	case whatsapp.TypeSystem:
		if s := m.System; s != nil {
			if s.Type == whatsapp.SystemUserChangedNumber && s.NewWaID != "" {
				return "The customer changed their WhatsApp number to +" + s.NewWaID + ". Replies go to the new number."
			}
			if s.Type == whatsapp.SystemUserChangedUserID {
				out := "The customer's WhatsApp user id (business-scoped user id) changed"
				if s.PreviousUserID != "" && m.NewUserID() != "" {
					out += " from " + s.PreviousUserID + " to " + m.NewUserID()
				}
				return out + ". They did not share a phone number; this conversation and ticket stay, and replies go to the new id."
			}
			if s.Body != "" {
				return s.Body
			}
		}
		return "(system message)"
	}
	// unsupported, unknown and types newer than this build
	reason := ""
	if len(m.Errors) > 0 {
		reason = m.Errors[0].Title
		if d := m.Errors[0].Details; d != "" {
			reason = d
		}
	}
	s := "Unsupported message: the customer sent something WhatsApp does not deliver to businesses (for example a poll or a view-once photo)."
	if m.Type != whatsapp.TypeUnsupported && m.Type != whatsapp.TypeUnknown && m.Type != "" {
		s = "Unsupported message of type " + m.Type + "."
	}
	if reason != "" {
		s += " WhatsApp said: " + reason
	}
	return s
}

// Subject builds a ticket subject from the customer and first message.
func Subject(name, waID, first string) string {
	who := name
	if who == "" {
		who = "+" + waID
	}
	first = strings.Join(strings.Fields(first), " ")
	if r := []rune(first); len(r) > 60 {
		first = string(r[:57]) + "..."
	}
	if first == "" {
		return "WhatsApp conversation with " + who
	}
	return "WhatsApp: " + who + ": " + first
}
