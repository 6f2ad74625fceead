package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

const (
	phoneID     = "106540352242922" // the fixtures' phone_number_id
	appSecret   = "test-app-secret"
	verifyToken = "test-verify-token"
	customer    = "16505551234"
)

type testBundle struct {
	handler http.Handler
	pool    *pgxpool.Pool
	store   *store.Store
}

func setup(t testing.TB) *testBundle {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith is setup with the bridge's options changed by edit.
func setupWith(t testing.TB, edit func(*bridge.Opts)) *testBundle {
	t.Helper()
	st := testdb.NewStore(t)
	pool := st.Pool()
	applyFile(t, st, &config.File{Path: "test", WhatsApp: []config.WhatsAppEntry{{
		Name: "support-us", PhoneNumberID: phoneID, WABAID: "102290129340398", AccessToken: "tok",
		AppSecret: appSecret, VerifyToken: verifyToken, GraphURL: "http://127.0.0.1:1", GraphVersion: "v23.0", SendRate: 80,
	}}})

	log := slog.New(slog.DiscardHandler)
	opts := bridge.Opts{Store: st, Logger: log}
	if edit != nil {
		edit(&opts)
	}
	br := bridge.New(opts)
	client, err := jobs.NewClient(jobs.Opts{Store: st, Logger: log, InsertOnly: true, RegisterWorkers: jobs.AddBridgeWorkers(br)})
	require.NoError(t, err)
	br.SetJobs(client)
	srv := server.New(server.Opts{Logger: log, Store: st, Bridge: br, Registry: prometheus.NewRegistry(), WebhookMaxBytes: 64 << 10})
	return &testBundle{handler: srv.Handler(), pool: pool, store: st}
}

func (b *testBundle) post(t *testing.T, body []byte, sig string) *httptest.ResponseRecorder {
	t.Helper()
	return postWhatsApp(b.handler, body, sig)
}

func (b *testBundle) postSigned(t *testing.T, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return b.post(t, body, whatsapptest.SignBody([]byte(appSecret), body))
}

func (b *testBundle) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// rows counts every table intake may write.
func (b *testBundle) rows(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"webhook_events", "contacts", "conversations", "messages", "river_job"} {
		out[tbl] = b.count(t, "SELECT count(*) FROM "+tbl)
	}
	return out
}

func TestWhatsAppVerification(t *testing.T) {
	t.Parallel()
	b := setup(t)

	tests := []struct {
		name, query string
		code        int
		body        string
	}{
		{"matching token", "hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444", 200, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444", 403, "forbidden\n"},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1", 403, "forbidden\n"},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + verifyToken, 403, "forbidden\n"},
		{"nothing", "", 403, "forbidden\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			b.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/whatsapp?"+tt.query, nil))
			require.Equal(t, tt.code, rec.Code)
			require.Equal(t, tt.body, rec.Body.String())
			if tt.code == 200 {
				require.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
			}
		})
	}
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM whatsapp_accounts WHERE verified_at IS NOT NULL"))
}

func TestWhatsAppFixturesAreStoredOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// Every real-shaped payload is accepted; a redelivery of each adds only
	// its raw event, never a message or a job.
	for _, name := range whatsapptest.FixtureNames(t) {
		body := whatsapptest.Fixture(t, name)
		rec := b.postSigned(t, body)
		require.Equal(t, http.StatusOK, rec.Code, "%s: %s", name, rec.Body)
		before := b.rows(t)
		rec = b.postSigned(t, body)
		require.Equal(t, http.StatusOK, rec.Code, name)
		after := b.rows(t)
		before["webhook_events"]++
		require.Equal(t, before, after, "redelivery of %s stored something new", name)
	}

	// The fixtures hold 19 inbound messages with distinct wamids (the
	// batched one carries two); statuses name messages relaydesk never sent.
	require.Equal(t, b.count(t, "SELECT count(DISTINCT wamid) FROM messages"), b.count(t, "SELECT count(*) FROM messages"))
	require.Positive(t, b.count(t, "SELECT count(*) FROM messages"))
	require.Equal(t, 0, b.count(t, "SELECT count(*) FROM messages WHERE direction = 'out'"))
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM conversations"), "one customer, one number: one conversation")
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound'"),
		"a conversation has at most one delivery job waiting")
	require.Equal(t, "Kerry Fisher", scalar[string](t, b.pool, "SELECT profile_name FROM contacts WHERE wa_id = $1", customer))

	t.Run("kinds and bodies", func(t *testing.T) {
		for _, kind := range []string{"text", "image", "audio", "video", "document", "sticker", "location", "contacts",
			"interactive", "button", "reaction", "order", "system", "unsupported"} {
			require.Positive(t, b.count(t, "SELECT count(*) FROM messages WHERE kind = $1", kind), "no %s message stored", kind)
		}
		require.Equal(t, 0, b.count(t, "SELECT count(*) FROM messages WHERE wa_message IS NULL OR wa_message->>'id' IS DISTINCT FROM wamid"),
			"the decoded WhatsApp message is kept")
		require.Positive(t, b.count(t, "SELECT count(*) FROM messages WHERE kind = 'image' AND media->>'id' <> ''"))
	})
	t.Run("number change is recorded on the contact", func(t *testing.T) {
		require.Equal(t, 1, b.count(t, "SELECT count(*) FROM contacts WHERE changed_to_wa_id IS NOT NULL"))
	})
}

func scalar[T any](t *testing.T, pool *pgxpool.Pool, sql string, args ...any) T {
	t.Helper()
	var v T
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&v))
	return v
}

func TestWhatsAppBatchKeepsOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)

	d := whatsapptest.NewDelivery(phoneID).Text(customer, "first").Image(customer, "111", "image/jpeg", "second").
		Audio(customer, "222", "audio/ogg; codecs=opus", true).Text("4915112345678", "other customer")
	rec := b.postSigned(t, d.Bytes())
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	rows, err := b.pool.Query(context.Background(), `SELECT m.wamid FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY m.seq`, customer)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, d.MessageIDs()[:3], got)
	require.Equal(t, 2, b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound'"), "one job per conversation")

	t.Run("a later delivery continues the sequence and queues no second job", func(t *testing.T) {
		d2 := whatsapptest.NewDelivery(phoneID).Text(customer, "fourth")
		require.Equal(t, http.StatusOK, b.postSigned(t, d2.Bytes()).Code)
		rows, err := b.pool.Query(context.Background(), `SELECT m.seq FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY m.seq`, customer)
		require.NoError(t, err)
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2, 3, 4}, seqs)
		require.Equal(t, 2, b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'deliver_inbound'"))
	})
}

func TestWhatsAppRejections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := whatsapptest.NewDelivery(phoneID).Text(customer, "hello").Bytes()
	empty := b.rows(t)

	tests := []struct {
		name string
		body []byte
		sig  string
		code int
	}{
		{"unsigned", good, "", http.StatusUnauthorized},
		{"wrong secret", good, whatsapptest.SignBody([]byte("other-secret"), good), http.StatusUnauthorized},
		{"tampered body", bytes.Replace(good, []byte("hello"), []byte("hellO"), 1), whatsapptest.SignBody([]byte(appSecret), good), http.StatusUnauthorized},
		{"malformed signature", good, "sha256=zz", http.StatusUnauthorized},
		{"sha1 only", good, "sha1=0000000000000000000000000000000000000000", http.StatusUnauthorized},
		{"not json", []byte("{not json"), whatsapptest.SignBody([]byte(appSecret), []byte("{not json")), http.StatusBadRequest},
		{"oversized", append(good, bytes.Repeat([]byte(" "), 70<<10)...), "sha256=00", http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.post(t, tt.body, tt.sig)
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			require.Equal(t, empty, b.rows(t), "a rejected delivery changes nothing")
		})
	}

	t.Run("signed but wrong object", func(t *testing.T) {
		body := []byte(strings.Replace(string(good), "whatsapp_business_account", "instagram", 1))
		rec := b.postSigned(t, body)
		require.Equal(t, http.StatusBadRequest, rec.Code)
		require.Equal(t, empty, b.rows(t))
	})
	t.Run("unknown phone number is acknowledged and stored nowhere", func(t *testing.T) {
		body := whatsapptest.NewDelivery("999999999").Text(customer, "hi").Bytes()
		rec := b.post(t, body, whatsapptest.SignBody([]byte("whatever"), body))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, empty, b.rows(t))
	})
}

func TestWhatsAppStatuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	// An outbound message as the send job leaves it.
	require.Equal(t, http.StatusOK, b.postSigned(t, whatsapptest.NewDelivery(phoneID).Text(customer, "hi").Bytes()).Code)
	const wamid = "wamid.OUTBOUND1"
	_, err := b.pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, state, status)
		SELECT id, 'out', 100, $1, 'text', 'reply', 'done', 'accepted' FROM conversations`, wamid)
	require.NoError(t, err)
	status := func() string {
		return scalar[string](t, b.pool, "SELECT status FROM messages WHERE wamid = $1", wamid)
	}
	failJobs := func() int { return b.count(t, "SELECT count(*) FROM river_job WHERE kind = 'status_failed'") }
	send := func(st string, errs ...whatsapp.Error) {
		t.Helper()
		rec := b.postSigned(t, whatsapptest.NewDelivery(phoneID).Status(wamid, st, customer, errs...).Bytes())
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	}

	steps := []struct {
		status   string
		errs     []whatsapp.Error
		want     string
		failJobs int
	}{
		{"sent", nil, "sent", 0},
		{"read", nil, "read", 0},
		{"delivered", nil, "read", 0}, // late: never overwrites read
		{"sent", nil, "read", 0},
		{"failed", []whatsapp.Error{{Code: 131026, Title: "Message undeliverable"}}, "read", 1}, // kept, reported once
		{"failed", []whatsapp.Error{{Code: 131026, Title: "Message undeliverable"}}, "read", 1}, // redelivered: no second report
	}
	for i, s := range steps {
		send(s.status, s.errs...)
		require.Equal(t, s.want, status(), "step %d (%s)", i, s.status)
		require.Equal(t, s.failJobs, failJobs(), "step %d (%s)", i, s.status)
	}
	require.Equal(t, 131026, scalar[int](t, b.pool, "SELECT (error->0->>'code')::int FROM messages WHERE wamid = $1", wamid))

	t.Run("failed after sent becomes failed", func(t *testing.T) {
		const w2 = "wamid.OUTBOUND2"
		_, err := b.pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, seq, wamid, kind, body, state, status)
			SELECT id, 'out', 101, $1, 'text', 'reply', 'done', 'sent' FROM conversations`, w2)
		require.NoError(t, err)
		rec := b.postSigned(t, whatsapptest.NewDelivery(phoneID).Status(w2, "failed", customer, whatsapp.Error{Code: 131047}).Bytes())
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "failed", scalar[string](t, b.pool, "SELECT status FROM messages WHERE wamid = $1", w2))
		require.Equal(t, 2, failJobs())
	})
	t.Run("SQL rank orders empty < sent < failed < delivered < read < played", func(t *testing.T) {
		for _, tc := range []struct {
			status string
			rank   int
		}{
			{"", 0}, {"sent", 1}, {"failed", 2}, {"delivered", 3}, {"read", 4}, {"played", 5},
			// Unknown statuses and other spellings rank like no status.
			{"accepted", 0}, {"deleted", 0}, {"SENT", 0}, {"Read", 0}, {"PLAYED", 0},
		} {
			require.Equal(t, tc.rank, scalar[int](t, b.pool, "SELECT relaydesk_status_rank($1)", tc.status), tc.status)
		}
	})
}

func TestWhatsAppDisabledNumberIsAcknowledgedAndDropped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.pool.Exec(context.Background(), `UPDATE whatsapp_accounts SET enabled = false`)
	require.NoError(t, err)
	empty := b.rows(t)
	rec := b.postSigned(t, whatsapptest.NewDelivery(phoneID).Text(customer, "hello").Bytes())
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, empty, b.rows(t))
}

// A delivery is signed by one Meta app. Knowing one number's app secret must
// not let a sender inject messages for a number of another app by batching
// a change for it into a delivery signed with its own secret.
func TestWhatsAppSignatureVouchesOnlyForItsOwnNumbers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const otherPhoneID, otherSecret = "209876543210987", "another-apps-secret"
	applyFile(t, b.store, &config.File{Path: "test", WhatsApp: []config.WhatsAppEntry{{
		Name: "support-us", PhoneNumberID: phoneID, WABAID: "102290129340398", AccessToken: "tok",
		AppSecret: appSecret, VerifyToken: verifyToken, GraphURL: "http://127.0.0.1:1", GraphVersion: "v23.0", SendRate: 80,
	}, {
		Name: "support-eu", PhoneNumberID: otherPhoneID, WABAID: "102290129340399", AccessToken: "tok2",
		AppSecret: otherSecret, VerifyToken: "other-verify-token", GraphURL: "http://127.0.0.1:1", GraphVersion: "v23.0", SendRate: 80,
	}}})
	inNumber := func(pnid string) int {
		return b.count(t, `SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN whatsapp_accounts a ON a.id = c.account_id WHERE a.phone_number_id = $1`, pnid)
	}

	d := whatsapptest.NewDelivery(phoneID).Text(customer, "mine").ForNumber(otherPhoneID).Text("4915112345678", "forged")
	rec := b.postSigned(t, d.Bytes()) // signed with the first number's secret only
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, 1, inNumber(phoneID), "the signing app's own number is stored")
	require.Equal(t, 0, inNumber(otherPhoneID), "a number of another app is not vouched for by this signature")

	t.Run("a change for the other app alone, signed with the wrong secret, is refused", func(t *testing.T) {
		d := whatsapptest.NewDelivery(otherPhoneID).Text("4915112345678", "forged")
		require.Equal(t, http.StatusUnauthorized, b.postSigned(t, d.Bytes()).Code)
		require.Equal(t, 0, inNumber(otherPhoneID))
	})
	t.Run("the other app's own signature is accepted", func(t *testing.T) {
		d := whatsapptest.NewDelivery(otherPhoneID).Text("4915112345678", "genuine")
		rec := b.post(t, d.Bytes(), whatsapptest.SignBody([]byte(otherSecret), d.Bytes()))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, 1, inNumber(otherPhoneID))
	})
}

func TestWhatsAppAccountChangesApplyAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	require.Equal(t, http.StatusOK, b.postSigned(t, whatsapptest.NewDelivery(phoneID).Text(customer, "one").Bytes()).Code)
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages"))

	// Intake keeps numbers in memory for a moment; a change made in this
	// process applies to the very next delivery.
	_, err := b.pool.Exec(ctx, `UPDATE whatsapp_accounts SET managed_by_file = false`) // editable, as if added in the page
	require.NoError(t, err)
	acc, err := b.store.AccountByPhoneNumberID(ctx, phoneID)
	require.NoError(t, err)
	require.NoError(t, b.store.SetAccountEnabled(ctx, acc.ID, false, store.Actor{Name: "test"}))
	require.Equal(t, http.StatusOK, b.postSigned(t, whatsapptest.NewDelivery(phoneID).Text(customer, "two").Bytes()).Code)
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages"), "a disabled number's message is dropped at once")

	require.NoError(t, b.store.SetAccountEnabled(ctx, acc.ID, true, store.Actor{Name: "test"}))
	require.NoError(t, b.store.UpdateAccount(ctx, acc.ID, store.NewAccount{Name: acc.Name, PhoneNumberID: phoneID, WABAID: acc.WABAID,
		GraphURL: acc.GraphURL, GraphVersion: acc.GraphVersion, SendRate: acc.SendRate, AppSecret: "rotated-secret"}, store.Actor{Name: "test"}))
	body := whatsapptest.NewDelivery(phoneID).Text(customer, "three").Bytes()
	require.Equal(t, http.StatusUnauthorized, b.postSigned(t, body).Code, "the old app secret no longer signs")
	require.Equal(t, http.StatusOK, b.post(t, body, whatsapptest.SignBody([]byte("rotated-secret"), body)).Code)
	require.Equal(t, 2, b.count(t, "SELECT count(*) FROM messages"))
}
