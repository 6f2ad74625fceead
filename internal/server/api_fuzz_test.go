package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/relaydesk/relaydesk/internal/apiauth"
	"github.com/relaydesk/relaydesk/internal/store"
)

// FuzzAPISend posts arbitrary bodies to POST /api/v1/chats/{id}/messages
// through the real handler into a real PostgreSQL. The API never answers
// 500, every answer is one the OpenAPI document describes, a refused body
// stores nothing, and an accepted one stores exactly one outbound message.
func FuzzAPISend(f *testing.F) {
	b := apiSetup(f, apiOpts{})
	chatID, _ := b.world()
	app, secret := b.app(store.NewAPIClient{Name: "Fuzz", Scopes: allScopes, GrantTypes: []string{apiauth.GrantClientCredentials}})
	tok := b.clientToken(app, secret, "")
	path := fmt.Sprintf("/api/v1/chats/%d/messages", chatID)
	for _, s := range []string{
		`{"type":"text","text":"hi"}`, `{"type":"text","text":"a\u0000b"}`, `{"type":"text","text":"cut \ud83d"}`,
		"{\"type\":\"text\",\"text\":\"bad \xff\"}", `{"type":"image","media":{"link":"https://cdn.example.com/a.png","caption":"x"}}`,
		`{"type":"template","template":{"name":"hello_world","language":"en_US"}}`, `{"type":"text"}`, `{"type":"nope"}`,
		`[]`, `null`, `{"type":"text","text":1}`, `{"type":"text","text":"` + string(bytes.Repeat([]byte("x"), 5000)) + `"}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		bb := *b
		bb.t = t
		before := bb.count(`SELECT count(*) FROM messages WHERE direction = 'out'`)
		resp, respBody := bb.api(http.MethodPost, path, tok, string(body))
		after := bb.count(`SELECT count(*) FROM messages WHERE direction = 'out'`)
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("answered %d for %q: %s", resp.StatusCode, body, respBody)
		case resp.StatusCode == http.StatusAccepted:
			if after != before+1 {
				t.Fatalf("accepted %q, but %d outbound messages were stored", body, after-before)
			}
		case resp.StatusCode >= 400:
			if after != before {
				t.Fatalf("refused %q with %d, yet %d outbound messages were stored", body, resp.StatusCode, after-before)
			}
		default:
			t.Fatalf("answered %d for %q: %s", resp.StatusCode, body, respBody)
		}
	})
}
