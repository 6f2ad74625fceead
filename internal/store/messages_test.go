package store_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// conversation returns a new conversation of a new number.
func conversation(t *testing.T, st *store.Store, name string) (store.AccountID, store.ConversationID) {
	t.Helper()
	ctx := context.Background()
	acc, err := st.CreateAccount(ctx, store.NewAccount{Name: name, PhoneNumberID: name + "-phone", WABAID: "1",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", SendRate: 80, AccessToken: "t", AppSecret: "s",
		VerifyToken: "v"}, store.Actor{Name: "test"})
	require.NoError(t, err)
	conv, err := st.EnsureConversation(ctx, acc.ID, "4915100000001")
	require.NoError(t, err)
	return acc.ID, conv
}

func TestMessageColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	accID, _ := conversation(t, b.store, "cols")
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

	t.Run("an inbound message keeps its decoded message and media", func(t *testing.T) {
		media := &whatsapp.Media{ID: "m1", MimeType: "image/jpeg", SHA256: "abc", Caption: "look"}
		msg := &whatsapp.Message{ID: "wamid.in1", From: "4915100000002", Type: "image", Timestamp: at, Media: media}
		var res store.InboundResult
		require.NoError(t, b.store.InTx(ctx, func(tx *store.Tx) error {
			var err error
			res, err = tx.RecordInbound(ctx, store.Inbound{AccountID: accID, Customer: store.Customer{WaID: "4915100000002"}, Messages: []store.InboundMessage{
				{WAMID: "wamid.in1", Kind: "image", Body: "look", Media: media, Message: msg, At: at}}})
			return err
		}))
		m, err := b.store.NextPending(ctx, res.ConversationID, "in")
		require.NoError(t, err)
		require.Equal(t, media, m.Media)
		require.NotNil(t, m.Inbound)
		require.Equal(t, "wamid.in1", m.Inbound.ID)
		require.Equal(t, media, m.Inbound.Media)
		require.True(t, at.Equal(m.Inbound.Timestamp))
		require.Nil(t, m.InboundRaw)
		require.Nil(t, m.APISend)
		require.Nil(t, m.Error)
	})

	t.Run("an outbound message keeps its attachments, API send and sent parts", func(t *testing.T) {
		_, conv := conversation(t, b.store, "out")
		files := []connectors.RemoteAttachment{{URL: "https://h/a.png", Filename: "a.png", ContentType: "image/png", Size: 3}}
		id, ok, err := b.store.InsertOutbound(ctx, store.Outbound{ConversationID: conv, Kind: "image", Body: "hi",
			Attachments: files, APISend: &store.APISend{Type: "image", Link: "https://x/y.png"}, Author: "app:test"})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, b.store.RecordPart(ctx, id, 0, "wamid.p0"))
		require.NoError(t, b.store.RecordPart(ctx, id, 1, "wamid.p1"))
		m, err := b.store.MessageByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, files, m.Attachments)
		require.Equal(t, &store.APISend{Type: "image", Link: "https://x/y.png"}, m.APISend)
		require.Equal(t, map[int]string{0: "wamid.p0", 1: "wamid.p1"}, m.SentParts)
		require.Nil(t, m.Media)

		require.NoError(t, b.store.SetAttachments(ctx, id, "hydrated", nil))
		m, err = b.store.MessageByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "hydrated", m.Body)
		require.Nil(t, m.Attachments)
	})

	t.Run("errors keep the JSON shape the API shows", func(t *testing.T) {
		accID, conv := conversation(t, b.store, "err")
		id, _, err := b.store.InsertOutbound(ctx, store.Outbound{ConversationID: conv, Kind: "text", Body: "x"})
		require.NoError(t, err)
		require.NoError(t, b.store.MarkState(ctx, id, store.StateFailed, store.Failure("window_closed", "too late")))
		m, err := b.store.MessageByID(ctx, id)
		require.NoError(t, err)
		out, err := json.Marshal(m.Error)
		require.NoError(t, err)
		require.Equal(t, `{"code":"window_closed","reason":"too late"}`, string(out))
		require.NoError(t, b.store.MarkState(ctx, id, store.StatePending, nil))
		m, err = b.store.MessageByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, store.Failure("window_closed", "too late"), m.Error, "a nil reason keeps the error")

		id2, _, err := b.store.InsertOutbound(ctx, store.Outbound{ConversationID: conv, Kind: "text", Body: "y"})
		require.NoError(t, err)
		require.NoError(t, b.store.MarkSent(ctx, id2, "wamid.out2"))
		wa := []whatsapp.Error{{Code: 131047, Title: "Re-engagement message", Message: "More than 24 hours", Details: "d", Href: "h"}}
		r, err := b.store.ApplyStatus(ctx, store.StatusUpdate{AccountID: accID, WAMID: "wamid.out2", Status: "failed", At: at, Errors: wa})
		require.NoError(t, err)
		require.True(t, r.Found && r.Advanced && r.FirstFailure)
		m, err = b.store.MessageByID(ctx, id2)
		require.NoError(t, err)
		require.Equal(t, wa, m.Error.WhatsApp)
		out, err = json.Marshal(m.Error)
		require.NoError(t, err)
		require.Equal(t, `[{"code":131047,"title":"Re-engagement message","message":"More than 24 hours","href":"h","error_data":{"details":"d"}}]`, string(out))
	})

	t.Run("parked events come back typed and in arrival order", func(t *testing.T) {
		conn, err := b.store.CreateConnection(ctx, store.NewConnection{Name: "park", Kind: "zendesk"}, store.Actor{Name: "test"})
		require.NoError(t, err)
		for _, body := range []string{"first", "second", "third"} {
			require.NoError(t, b.store.ParkEvent(ctx, conn.ID, "T1", connectors.Event{TicketID: "T1", Body: body}))
		}
		evs, err := b.store.TakeParkedEvents(ctx, conn.ID, "T1")
		require.NoError(t, err)
		require.Len(t, evs, 3)
		require.Equal(t, []string{"first", "second", "third"}, []string{evs[0].Body, evs[1].Body, evs[2].Body})
		evs, err = b.store.TakeParkedEvents(ctx, conn.ID, "T1")
		require.NoError(t, err)
		require.Empty(t, evs, "taken once")
	})
}

// TestMessageColumnsMigration stores rows in the shapes of migration 004
// and checks what 005 makes of them, and that its down part restores them.
func TestMessageColumnsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	log := slog.New(slog.DiscardHandler)
	require.NoError(t, migrate.Down(ctx, pool, log, 4))

	_, err := pool.Exec(ctx, `
		INSERT INTO whatsapp_accounts (name, phone_number_id, waba_id, access_token, app_secret, verify_token)
			VALUES ('m', 'm', 'm', '\x00', '\x00', '\x00');
		INSERT INTO contacts (wa_id) VALUES ('49');
		INSERT INTO conversations (account_id, contact_id) SELECT a.id, k.id FROM whatsapp_accounts a, contacts k;
		INSERT INTO messages (conversation_id, direction, seq, wamid, kind, media, payload, error)
		SELECT id, 'in', 1, 'wamid.old', 'image',
			'{"ID":"m1","MimeType":"image/png","SHA256":"s","Caption":"c","Filename":"","Voice":false,"Animated":false}',
			'{"id":"wamid.old","type":"image"}', 'null' FROM conversations;
		INSERT INTO messages (conversation_id, direction, seq, kind, media, payload, error)
		SELECT id, 'out', 2, 'image', '[{"URL":"https://h/a","Filename":"a","ContentType":"image/png","Size":1}]',
			'{"api":{"type":"image","link":"https://x"},"parts":{"0":"wamid.p0"}}', '{"reason":"r"}' FROM conversations;`)
	require.NoError(t, err)
	require.NoError(t, migrate.Up(ctx, pool, log))

	key, err := secret.ParseKey(secret.GenerateKey())
	require.NoError(t, err)
	kr, err := secret.NewKeyring(key, nil)
	require.NoError(t, err)
	st := store.New(pool, kr)
	var ids []store.MessageID
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY seq) FROM messages`).Scan(&ids))

	in, err := st.MessageByID(ctx, ids[0])
	require.NoError(t, err)
	require.Nil(t, in.Inbound, "Meta's raw JSON cannot be decoded in SQL")
	require.JSONEq(t, `{"id":"wamid.old","type":"image"}`, string(in.InboundRaw))
	require.Nil(t, in.Error, "a JSON null error is no error")
	var media map[string]any
	require.NoError(t, pool.QueryRow(ctx, `SELECT media FROM messages WHERE id = $1`, ids[0]).Scan(&media))
	require.Equal(t, map[string]any{"id": "m1", "mime_type": "image/png", "sha256": "s", "caption": "c", "filename": "",
		"voice": false, "animated": false}, media)

	out, err := st.MessageByID(ctx, ids[1])
	require.NoError(t, err)
	require.Equal(t, []connectors.RemoteAttachment{{URL: "https://h/a", Filename: "a", ContentType: "image/png", Size: 1}}, out.Attachments)
	require.Nil(t, out.Media)
	require.Equal(t, &store.APISend{Type: "image", Link: "https://x"}, out.APISend)
	require.Equal(t, map[int]string{0: "wamid.p0"}, out.SentParts)
	require.Equal(t, store.Failure("", "r"), out.Error)

	require.NoError(t, migrate.Down(ctx, pool, log, 4))
	var payloads, medias []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT array_agg(payload::text ORDER BY seq), array_agg(media::text ORDER BY seq)
		FROM messages`).Scan(&payloads, &medias))
	require.JSONEq(t, `{"id":"wamid.old","type":"image"}`, payloads[0])
	require.JSONEq(t, `{"api":{"type":"image","link":"https://x"},"parts":{"0":"wamid.p0"}}`, payloads[1])
	require.JSONEq(t, `{"ID":"m1","MimeType":"image/png","SHA256":"s","Caption":"c","Filename":"","Voice":false,"Animated":false}`, medias[0])
	require.JSONEq(t, `[{"URL":"https://h/a","Filename":"a","ContentType":"image/png","Size":1}]`, medias[1])
}
