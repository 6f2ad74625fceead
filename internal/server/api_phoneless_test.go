package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// A customer known by BSUID only (whatsapptest/testdata/2026/
// identity-bsuid-only.json) through the public API: the chat and contact
// carry user_id and username with a null phone, the contact is found by
// BSUID, and a message sent to the chat or to the BSUID reaches Graph in
// "recipient".
func TestAPIPhonelessCustomer(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	tok := b.fullAccessToken()
	const bsuid = "US.13491208655302741918"

	body := whatsapptest.Testdata(t, "2026/identity-bsuid-only.json")
	body = regexp.MustCompile(`"timestamp": "\d+"`).ReplaceAll(body, fmt.Appendf(nil, `"timestamp": "%d"`, time.Now().Unix()))
	req, err := http.NewRequest(http.MethodPost, b.srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(apiAppSecret), body))
	resp, respBody := b.do(req)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(respBody))
	b.eventually(func() bool {
		return b.count(`SELECT count(*) FROM messages WHERE direction = 'in' AND state = 'done'`) == 1
	},
		"the message posted")
	chatID := b.chatOf(bsuid)

	resp, respBody = b.api(http.MethodGet, fmt.Sprintf("/api/v1/chats/%d", chatID), tok, nil) // validated against the document
	require.Equal(t, http.StatusOK, resp.StatusCode, string(respBody))
	ch := decode[apiview.Chat](t, respBody)
	require.Nil(t, ch.Contact.WaID)
	require.Nil(t, ch.Contact.Phone)
	require.Equal(t, bsuid, *ch.Contact.UserID)
	require.Equal(t, "maria.s", *ch.Contact.Username)
	require.Contains(t, string(respBody), `"phone":null`)

	resp, respBody = b.api(http.MethodGet, "/api/v1/contacts/"+bsuid, tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(respBody))
	ct := decode[apiview.Contact](t, respBody)
	require.Equal(t, bsuid, *ct.UserID)
	require.Nil(t, ct.Phone)
	require.Equal(t, []int64{int64(chatID)}, []int64{int64(ct.ChatIDs[0])})

	resp, respBody = b.api(http.MethodGet, "/api/v1/contacts/US.00000000000000000000", tok, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, string(respBody))

	resp, respBody = b.api(http.MethodPost, fmt.Sprintf("/api/v1/chats/%d/messages", chatID), tok,
		map[string]any{"type": "text", "text": "sent to the chat"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(respBody))
	resp, respBody = b.api(http.MethodPost, "/api/v1/messages", tok,
		map[string]any{"to": bsuid, "number": apiPhoneID, "type": "text", "text": "sent to the BSUID"})
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(respBody))
	b.eventually(func() bool { return len(b.graph.Sent()) == 2 }, "both sent")
	for _, m := range b.graph.Sent() {
		require.Equal(t, bsuid, m.Recipient)
		require.Empty(t, m.To)
	}

	resp, respBody = b.api(http.MethodPost, "/api/v1/messages", tok,
		map[string]any{"to": "US.11111111111111111111", "number": apiPhoneID, "type": "text", "text": "unknown"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, string(respBody))
	require.Contains(t, string(respBody), "business-scoped user id")
}
