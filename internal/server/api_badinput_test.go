package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

func TestSendUnstorableTextAnswers422NamingTheField(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, _ := b.world()
	app, secret := b.app(store.NewAPIClient{Name: "Bot", Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	tok := b.clientToken(app, secret, "")
	path := fmt.Sprintf("/api/v1/chats/%d/messages", chatID)
	before := b.count(`SELECT count(*) FROM messages`)

	tests := []struct{ name, body, field string }{
		{"nul in text", `{"type":"text","text":"a\u0000b"}`, "text"},
		{"lone surrogate in text", `{"type":"text","text":"cut \ud83d"}`, "text"},
		{"invalid utf-8 in text", "{\"type\":\"text\",\"text\":\"bad \xff\"}", "text"},
		{"nul in a caption", `{"type":"image","media":{"link":"https://cdn.example.com/a.png","caption":"x\u0000"}}`, "media.caption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := b.api(http.MethodPost, path, tok, tt.body)
			require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, string(body))
			require.Contains(t, string(body), "#problem-invalid-message")
			require.Contains(t, string(body), `"detail":"`+tt.field+` holds`)
		})
	}
	require.Equal(t, before, b.count(`SELECT count(*) FROM messages`), "nothing stored")

	t.Run("an escaped backslash before u0000 is plain text", func(t *testing.T) {
		resp, body := b.api(http.MethodPost, path, tok, `{"type":"text","text":"C:\\u0000"}`)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
	})
}

// A row stored before timestamps were clamped (or written by hand) must not
// make the API answer 500: the window end past year 9999 cannot be written
// in RFC 3339.
func TestChatsAnswerForARowDatedYear9999(t *testing.T) {
	t.Parallel()
	b := apiSetup(t, apiOpts{})
	chatID, _ := b.world()
	tok := b.fullAccessToken()
	ctx := context.Background()
	_, err := b.store.Pool().Exec(ctx, `UPDATE conversations SET last_inbound_at = '9999-12-31 23:59:59+00' WHERE id = $1`, chatID)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(ctx, `UPDATE messages SET wa_timestamp = '9999-12-31 23:59:59+00' WHERE conversation_id = $1`, chatID)
	require.NoError(t, err)

	for _, p := range []string{"/api/v1/chats", fmt.Sprintf("/api/v1/chats/%d", chatID), fmt.Sprintf("/api/v1/chats/%d/messages", chatID)} {
		resp, body := b.api(http.MethodGet, p, tok, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", p, body)
	}
}
