package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// The 2026 identity payloads (whatsapptest/testdata/2026, sources in its
// README.md) end to end: signed delivery, Zendesk ticket content, and an
// agent's reply reaching the fake Graph addressed as Meta's docs say.

var fixtureTimestampRE = regexp.MustCompile(`"timestamp": "\d+"`)

// identityFixture is a 2026 payload with its timestamps moved to now, so
// the 24-hour window is open for the agent's replies.
func identityFixture(t *testing.T, name string) []byte {
	t.Helper()
	body := whatsapptest.Testdata(t, "2026/"+name)
	now := fmt.Sprintf(`"timestamp": "%d"`, time.Now().Unix())
	return fixtureTimestampRE.ReplaceAll(body, []byte(now))
}

// userByID is the fake Zendesk's user with this id.
func (h *harness) userByID(id string) connectortest.User {
	h.t.Helper()
	for _, u := range h.zd.Users() {
		if u.ID == id {
			return u
		}
	}
	h.t.Fatalf("no Zendesk user %s", id)
	return connectortest.User{}
}

// TestPhonelessCustomerEndToEnd: a customer known by BSUID only writes
// (identity-bsuid-only.json); Zendesk gets a ticket whose requester has no
// phone, the BSUID as external id and the username as name; the agent's
// reply goes to Graph in "recipient", never "to". Their BSUID then changes
// (identity-user-changed-user-id.json): the same ticket gets a note saying
// so and the next reply goes to the new BSUID. A reply WhatsApp refuses
// with 131062 becomes a note telling the agent what to do.
func TestPhonelessCustomerEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, harnessOpts{})
	const bsuid, newBSUID = "US.13491208655302741918", "US.99887766554433221100"

	h.postWhatsAppBody(identityFixture(t, "identity-bsuid-only.json"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "the phoneless customer's ticket")
	tk := h.zd.Tickets()[0]
	require.Contains(t, tk.Subject, "Maria Souza")
	h.eventually(func() bool { return len(h.publicComments(tk.ID)) == 1 }, "the first comment")
	require.Contains(t, h.publicComments(tk.ID)[0].Body, "I ordered a lamp last week")
	requester := h.userByID(tk.RequesterID)
	require.Equal(t, "maria.s", requester.Name, "named by the username")
	require.Empty(t, requester.Phone, "no phone invented")
	require.Equal(t, "wa:"+bsuid, requester.ExternalID, "keyed by the BSUID")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM contacts WHERE user_id = $1 AND wa_id IS NULL AND username = 'maria.s'`, bsuid))

	h.agentReplies(tk.ID, "Sorry Maria, it ships today")
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the reply sent")
	sent := h.graph.Sent()[0]
	require.Equal(t, bsuid, sent.Recipient, "a BSUID is addressed in recipient")
	require.Empty(t, sent.To)
	require.Equal(t, "Sorry Maria, it ships today", sent.Text)
	require.NotContains(t, string(sent.Body), `"to"`)

	// Its read status names the customer by BSUID only.
	status := identityFixture(t, "identity-status-read-bsuid.json")
	status = []byte(strings.Replace(string(status), "wamid.HBgLYnN1aWQtcmVwbHkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", sent.ID, 1))
	h.postWhatsAppBody(status)
	require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE wamid = $1 AND status = 'read'`, sent.ID))

	t.Run("the BSUID changes: same contact, same ticket, a note, replies to the new id", func(t *testing.T) {
		h.postWhatsAppBody(identityFixture(t, "identity-user-changed-user-id.json"))
		h.eventually(func() bool {
			return strings.Contains(strings.Join(h.notes(tk.ID), "\n"), "changed from "+bsuid+" to "+newBSUID)
		}, "the note on the ticket")
		require.Len(t, h.zd.Tickets(), 1, "no new ticket")
		require.Equal(t, 1, h.count(`SELECT count(*) FROM contacts WHERE user_id = $1`, newBSUID))
		require.Zero(t, h.count(`SELECT count(*) FROM contacts WHERE user_id = $1`, bsuid))
		require.Equal(t, 1, h.count(`SELECT count(*) FROM conversations`), "the conversation stays")

		h.agentReplies(tk.ID, "Tracking number follows")
		h.eventually(func() bool { return len(h.sentTexts()) == 2 }, "the second reply sent")
		require.Equal(t, newBSUID, h.graph.Sent()[1].Recipient)
		require.Empty(t, h.graph.Sent()[1].To)
	})

	t.Run("131062 becomes a note saying what the agent can do, nothing retried", func(t *testing.T) {
		f := whatsapptest.ErrorFault(131062)
		f.Op, f.Times = whatsapptest.OpSendMessage, 1
		h.graph.Fail(f)
		before := h.count(`SELECT count(*) FROM messages WHERE direction = 'out'`)
		h.agentReplies(tk.ID, "Here is your login code")
		h.eventually(func() bool {
			return strings.Contains(strings.Join(h.notes(tk.ID), "\n"), "Ask the customer for their phone number")
		}, "the note")
		require.Equal(t, before+1, h.count(`SELECT count(*) FROM messages WHERE direction = 'out'`))
		require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE body = 'Here is your login code' AND state = 'failed'`))
		require.Len(t, h.sentTexts(), 2, "not sent again")
	})

	t.Run("an authentication template is never sent to a BSUID: a note says why", func(t *testing.T) {
		auth := whatsapp.TemplateInfo{ID: "920070352646199", Name: "login_code", Language: "en_US", Status: "APPROVED",
			Category: "AUTHENTICATION", ParameterFormat: whatsapp.FormatPositional,
			Components: []whatsapp.TemplateDef{{Type: "BODY", Text: "{{1}} is your verification code."}}}
		h.graph.SetTemplates(whatsapptest.FixtureWABAID, append(whatsapptest.FixtureTemplates(), auth)...)
		acc, err := h.store.AccountByPhoneNumberID(ctx, phoneID)
		require.NoError(t, err)
		_, err = h.bridge.RefreshTemplates(ctx, acc.ID)
		require.NoError(t, err)
		sends := len(h.graph.Sent())
		notes := len(h.notes(tk.ID))
		h.agentReplies(tk.ID, "/template login_code en_US\n1: 123456")
		h.eventually(func() bool { return len(h.notes(tk.ID)) > notes }, "the note")
		require.Contains(t, strings.Join(h.notes(tk.ID)[notes:], "\n"), "hides their phone number behind a WhatsApp username")
		require.Len(t, h.graph.Sent(), sends, "nothing sent to Graph")
		require.Equal(t, 1, h.count(`SELECT count(*) FROM messages WHERE body LIKE '/template login_code%' AND state = 'failed'`))
	})

	c, err := h.store.ContactsByID(ctx, newBSUID)
	require.NoError(t, err)
	require.Len(t, c, 1)
	h.noViolations()
}

// TestNumberChangeKeepsTicketWithNewBSUID: a customer with both ids
// (identity-both-ids.json) is a requester found by phone and replies go
// to "to"; their number change with previous_user_id
// (identity-number-changed-previous-user-id.json) keeps the contact,
// conversation and ticket, the contact gains the new BSUID, the ticket a
// note, and the next reply goes to the new number.
func TestNumberChangeKeepsTicketWithNewBSUID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOpts{})
	const oldBSUID, newBSUID = "US.71000000000000000042", "US.71000000000000000099"

	h.postWhatsAppBody(identityFixture(t, "identity-both-ids.json"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "the ticket")
	tk := h.zd.Tickets()[0]
	h.eventually(func() bool { return len(h.publicComments(tk.ID)) == 1 }, "the first comment")
	require.Contains(t, h.publicComments(tk.ID)[0].Body, "Can I change my delivery address?")
	requester := h.userByID(tk.RequesterID)
	require.Equal(t, "+"+customer, requester.Phone, "found or made by phone")
	require.Equal(t, "Kerry Fisher", requester.Name)
	require.Equal(t, 1, h.count(`SELECT count(*) FROM contacts WHERE wa_id = $1 AND user_id = $2`, customer, oldBSUID))

	h.agentReplies(tk.ID, "Yes, send it here")
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the reply sent")
	require.Equal(t, customer, h.graph.Sent()[0].To, "a known phone goes in to")
	require.Empty(t, h.graph.Sent()[0].Recipient)

	h.postWhatsAppBody(identityFixture(t, "identity-number-changed-previous-user-id.json"))
	h.eventually(func() bool {
		return strings.Contains(strings.Join(h.notes(tk.ID), "\n"), "changed their WhatsApp number to +12195555358")
	}, "the note on the ticket")
	require.Len(t, h.zd.Tickets(), 1, "no new ticket")
	require.Equal(t, 1, h.count(`SELECT count(*) FROM contacts WHERE user_id = $1 AND changed_to_wa_id = '12195555358'`, newBSUID))
	require.Equal(t, 1, h.count(`SELECT count(*) FROM contacts`), "one contact")

	h.agentReplies(tk.ID, "Noted your new number")
	h.eventually(func() bool { return len(h.sentTexts()) == 2 }, "the second reply sent")
	require.Equal(t, "12195555358", h.graph.Sent()[1].To)
	h.noViolations()
}

// TestUsernameCustomerEndToEnd: a customer with phone, BSUID and username
// (identity-username.json) keeps all three; the API shows them; the reply
// goes to the phone.
func TestUsernameCustomerEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, harnessOpts{})
	const phone, bsuid = "16315551181", "US.52000000000000000077"

	h.postWhatsAppBody(identityFixture(t, "identity-username.json"))
	h.eventually(func() bool { return len(h.zd.Tickets()) == 1 }, "the ticket")
	tk := h.zd.Tickets()[0]
	h.eventually(func() bool { return len(h.publicComments(tk.ID)) == 1 }, "the first comment")
	require.Contains(t, h.publicComments(tk.ID)[0].Body, "Is the store open on Sunday?")
	require.Equal(t, "+"+phone, h.userByID(tk.RequesterID).Phone)

	contacts, err := h.store.APIContactsByID(ctx, bsuid, nil)
	require.NoError(t, err)
	require.Len(t, contacts, 1)
	require.Equal(t, store.APIContact{ID: contacts[0].ID, WaID: phone, UserID: bsuid, Username: "sheena.n", ProfileName: "Sheena Nelson",
		CreatedAt: contacts[0].CreatedAt, UpdatedAt: contacts[0].UpdatedAt, ChatIDs: contacts[0].ChatIDs}, contacts[0])

	h.agentReplies(tk.ID, "Yes, 10 to 4")
	h.eventually(func() bool { return len(h.sentTexts()) == 1 }, "the reply sent")
	require.Equal(t, phone, h.graph.Sent()[0].To)
	require.Empty(t, h.graph.Sent()[0].Recipient)
	h.noViolations()
}
