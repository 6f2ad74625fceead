package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/jobs"
	"github.com/relaydesk/relaydesk/internal/server"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestRequestLogCarriesTheConversation(t *testing.T) {
	t.Parallel()
	st := testdb.NewStore(t)
	applyFile(t, st, &config.File{Path: "test", WhatsApp: []config.WhatsAppEntry{{
		Name: "support-us", PhoneNumberID: phoneID, WABAID: "102290129340398", AccessToken: "tok",
		AppSecret: appSecret, VerifyToken: verifyToken, GraphURL: "http://127.0.0.1:1", GraphVersion: "v23.0", SendRate: 80,
	}}})
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	br := bridge.New(bridge.Opts{Store: st, Logger: log})
	client, err := jobs.NewClient(jobs.Opts{Store: st, Logger: log, InsertOnly: true, RegisterWorkers: jobs.AddBridgeWorkers(br)})
	require.NoError(t, err)
	br.SetJobs(client)
	h := server.New(server.Opts{Logger: log, Store: st, Bridge: br, Registry: prometheus.NewRegistry()}).Handler()

	body := whatsapptest.NewDelivery(phoneID).Text(customer, "hello").Bytes()
	require.Equal(t, http.StatusOK, postWhatsApp(h, body, whatsapptest.SignBody([]byte(appSecret), body)).Code)
	conv := scalar[int64](t, st.Pool(), `SELECT id FROM conversations`)
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `msg="http request"`) && strings.Contains(l, "route=/webhooks/whatsapp") {
			line = l
		}
	}
	require.Contains(t, line, fmt.Sprintf("conversation_id=%d", conv))
}
