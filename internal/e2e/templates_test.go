package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// deskReply has an agent answer publicly in the route's helpdesk, with
// files, and the helpdesk deliver its webhook.
func (h *harness) deskReply(ticketID, body string, files ...connectortest.File) {
	h.t.Helper()
	id := h.desk.AgentReply(ticketID, body, files...)
	require.Equal(h.t, http.StatusOK, h.postHelpdesk(h.desk.CommentDelivery(ticketID, id)))
}

// deskTicket has the customer write and waits for the route's helpdesk to
// open the ticket.
func (h *harness) deskTicket(text string) string {
	h.t.Helper()
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, text))
	h.eventually(func() bool { return len(h.desk.Tickets()) == 1 }, "ticket")
	return h.desk.Tickets()[0].ID
}

// deskNotes are the internal notes of a ticket of the route's helpdesk.
func (h *harness) deskNotes(ticketID string) []string {
	var out []string
	for _, c := range h.desk.Comments(ticketID) {
		if !c.Public {
			out = append(out, c.Body)
		}
	}
	return out
}

// withTemplates gives the fake Graph the fixture catalogue and has
// relaydesk read it.
func (h *harness) withTemplates() store.Account {
	h.t.Helper()
	ctx := context.Background()
	h.graph.SetTemplates(whatsapptest.FixtureWABAID, whatsapptest.FixtureTemplates()...)
	acc, err := h.store.AccountByPhoneNumberID(ctx, phoneID)
	require.NoError(h.t, err)
	n, err := h.bridge.RefreshTemplates(ctx, acc.ID)
	require.NoError(h.t, err)
	require.Equal(h.t, len(whatsapptest.FixtureTemplates()), n)
	return acc
}

// sentTemplate is a template send as the fake Graph received it.
type sentTemplate struct {
	Template struct {
		Name       string `json:"name"`
		Components []struct {
			Type       string `json:"type"`
			SubType    string `json:"sub_type"`
			Index      string `json:"index"`
			Parameters []struct {
				Type  string `json:"type"`
				Text  string `json:"text"`
				Image *struct {
					ID string `json:"id"`
				} `json:"image"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

func (h *harness) templatesSent() []sentTemplate {
	var out []sentTemplate
	for _, m := range h.graph.Sent() {
		if m.Type == whatsapp.TypeTemplate {
			var st sentTemplate
			require.NoError(h.t, json.Unmarshal(m.Body, &st))
			out = append(out, st)
		}
	}
	return out
}

// An agent sends a template with two body variables, a header image (the
// reply's attachment) and a URL button's value, from Zendesk and from
// Chatwoot; the fake Graph checks the send against the catalogue it serves.
func TestAgentSendsTemplateFromTheHelpdesk(t *testing.T) {
	t.Parallel()
	for _, desk := range []struct {
		name string
		opts harnessOpts
	}{{"zendesk", harnessOpts{}}, {"chatwoot", harnessOpts{chatwoot: true}}} {
		t.Run(desk.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, desk.opts)
			h.withTemplates()
			tk := h.deskTicket("where is my order?")

			photo := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte("parcel"), 300)...)
			h.deskReply(tk, "/template order_update en_US\n1: Ana\n2: A-1042\nbutton 0: A-1042",
				connectortest.File{Filename: "parcel.jpg", ContentType: "image/jpeg", Data: photo})
			h.eventually(func() bool { return len(h.templatesSent()) == 1 }, "the template is sent; failures: %s", h.failures())

			sent := h.templatesSent()[0].Template
			require.Equal(t, "order_update", sent.Name)
			require.Len(t, sent.Components, 3)
			header, body, button := sent.Components[0], sent.Components[1], sent.Components[2]
			require.Equal(t, "header", header.Type)
			require.Equal(t, "image", header.Parameters[0].Type)
			ups := h.graph.Uploads()
			require.Len(t, ups, 1)
			require.Equal(t, photo, ups[0].Data, "the attachment reaches Graph unchanged")
			require.Equal(t, ups[0].ID, header.Parameters[0].Image.ID, "the header is the uploaded attachment")
			require.Equal(t, "body", body.Type)
			require.Equal(t, []string{"Ana", "A-1042"}, []string{body.Parameters[0].Text, body.Parameters[1].Text})
			require.Equal(t, []string{"button", "url", "0", "A-1042"}, []string{button.Type, button.SubType, button.Index, button.Parameters[0].Text})
			wamid := h.graph.Sent()[0].ID
			h.eventually(func() bool {
				return h.count(`SELECT count(*) FROM messages WHERE direction = 'out' AND state = 'done' AND wamid = $1`, wamid) == 1
			}, "the reply is recorded with the template's wamid")
			require.Empty(t, h.sentTexts(), "the command itself never reaches the customer")

			// A reply missing a variable is not sent; the note says what the
			// template expects.
			h.deskReply(tk, "/template order_update en_US\n1: Ana\nbutton 0: A-1042",
				connectortest.File{Filename: "parcel.jpg", ContentType: "image/jpeg", Data: photo})
			h.eventually(func() bool { return len(h.deskNotes(tk)) == 1 }, "a note")
			note := h.deskNotes(tk)[0]
			require.Contains(t, note, "NOT sent")
			require.Contains(t, note, "{{2}} has no value")
			require.Contains(t, note, "2: ...   (for example A-1042)")
			require.Len(t, h.graph.Sent(), 1, "nothing more was sent")
			h.noDeskViolations()
		})
	}
}

func (h *harness) noDeskViolations() {
	h.t.Helper()
	if v, ok := h.desk.(connectortest.Violator); ok {
		require.Empty(h.t, v.Violations(), "requests the helpdesk's documented API would refuse")
	}
	require.Empty(h.t, h.graph.ValidationErrors(), "requests that do not match Graph's OpenAPI description")
}

// Graph's refusal of a template (here paused since the last refresh)
// reaches the agent in plain words; a named template goes with its names;
// and a template sent after the window closed goes, opens nothing, and
// says the customer must answer first.
func TestTemplateRefusalsAndTheWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	h.withTemplates()
	tk := h.deskTicket("hello")

	paused := whatsapptest.FixtureTemplates()
	i := slices.IndexFunc(paused, func(t whatsapp.TemplateInfo) bool { return t.Name == "appointment_reminder" })
	paused[i].Status = "PAUSED"
	h.graph.SetTemplates(whatsapptest.FixtureWABAID, paused...)
	h.deskReply(tk, "/template appointment_reminder en\nfirst_name: Jo\ndate: May 3")
	h.eventually(func() bool { return len(h.deskNotes(tk)) == 1 }, "a note")
	require.Contains(t, h.deskNotes(tk)[0], "paused this template")
	require.Contains(t, h.deskNotes(tk)[0], "132015")
	require.Empty(t, h.graph.Sent())

	h.graph.SetTemplates(whatsapptest.FixtureWABAID, whatsapptest.FixtureTemplates()...)
	h.clock.Advance(25 * time.Hour)
	h.deskReply(tk, "/template appointment_reminder en\nfirst_name: Jo\ndate: May 3")
	h.eventually(func() bool { return len(h.templatesSent()) == 1 }, "sent outside the window; failures: %s", h.failures())
	h.eventually(func() bool { return len(h.deskNotes(tk)) == 2 }, "a second note")
	require.Contains(t, h.deskNotes(tk)[1], "the customer must answer before free-form replies can go")
	var sent struct {
		Template struct {
			Components []struct {
				Parameters []map[string]string `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	require.NoError(t, json.Unmarshal(h.graph.Sent()[0].Body, &sent))
	require.Equal(t, []map[string]string{{"type": "text", "parameter_name": "first_name", "text": "Jo"},
		{"type": "text", "parameter_name": "date", "text": "May 3"}}, sent.Template.Components[0].Parameters)

	// The window is still closed: a free-form reply is not sent.
	h.deskReply(tk, "did you get it?")
	h.eventually(func() bool { return len(h.deskNotes(tk)) == 3 }, "a third note")
	require.True(t, strings.Contains(h.deskNotes(tk)[2], "NOT sent"), h.deskNotes(tk)[2])
	require.Len(t, h.graph.Sent(), 1, "the template reopened nothing")
	h.noViolations()
}

// The route's re-engagement template takes the customer's name from the
// contact, and is recorded as a message of the ticket: its failure reaches
// the agent as a note like any reply's.
func TestReengagementTemplateIsFilledAndItsFailureReported(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{template: &config.TemplateRef{Name: "appointment_reminder", Language: "en"}})
	h.withTemplates()
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Name(customer, "Jessica").Text(customer, "hi"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "ticket")
	tk := h.zd.Tickets()[0].ID

	h.clock.Advance(25 * time.Hour)
	h.agentReplies(tk, "are you still there?")
	h.eventually(func() bool { return len(h.templatesSent()) == 1 }, "the re-engagement template; failures: %s", h.failures())
	var sent struct {
		Template struct {
			Components []struct {
				Parameters []map[string]string `json:"parameters"`
			} `json:"components"`
		} `json:"template"`
	}
	require.NoError(t, json.Unmarshal(h.graph.Sent()[0].Body, &sent))
	require.Equal(t, map[string]string{"type": "text", "parameter_name": "first_name", "text": "Jessica"},
		sent.Template.Components[0].Parameters[0], "the customer's name fills {{first_name}}")
	wamid := h.graph.Sent()[0].ID
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM messages WHERE direction = 'out' AND state = 'done' AND wamid = $1 AND ticket_id IS NOT NULL`, wamid) == 1
	}, "the template is a message of the ticket")

	h.eventually(func() bool { return len(h.notes(tk)) == 1 }, "the held reply's note")
	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).Status(wamid, "failed", customer,
		whatsapp.Error{Code: 131049, Title: "This message was not delivered to maintain healthy ecosystem engagement."}))
	h.eventually(func() bool { return len(h.notes(tk)) == 2 }, "a note about the template's failure")
	require.Contains(t, h.notes(tk)[1], "marketing message")
	h.noViolations()
}

// A customer's reply that quotes an earlier message shows the quoted
// message's first words on the ticket, whether it was the agent's reply or
// the customer's own message.
func TestQuotedMessageIsShownOnTheTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	tk := h.openTicket("my parcel never arrived")
	h.agentReplies(tk, "Sorry about that! Could you send me the order number please?")
	h.eventually(func() bool { return len(h.graph.Sent()) == 1 }, "the reply is sent")
	agentWamid := h.graph.Sent()[0].ID

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "A-1042").ReplyingTo(agentWamid))
	h.eventually(func() bool { return len(h.publicComments(tk)) == 3 }, "the customer's answer")
	require.Contains(t, h.publicComments(tk)[2].Body, `[Reply to our message: "Sorry about that! Could you send me the order number please?"]`)
	require.Contains(t, h.publicComments(tk)[2].Body, "A-1042")

	h.postWhatsApp(whatsapptest.NewDelivery(phoneID).At(h.clock.Now()).Text(customer, "still nothing").ReplyingTo("wamid.unknown"))
	h.eventually(func() bool { return len(h.publicComments(tk)) == 4 }, "a reply to a message relaydesk never saw")
	require.Contains(t, h.publicComments(tk)[3].Body, "[Reply to an earlier message]")
	h.noViolations()
}
