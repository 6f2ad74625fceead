package app_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var metricName = regexp.MustCompile(`\brelaydesk_[a-z0-9_]+\b`)

// exportedFamilies lists the metric families of a /metrics page (from its
// # TYPE lines), with the series names a histogram adds.
func exportedFamilies(page string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(page, "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = true
			if f[3] == "histogram" {
				for _, s := range []string{"_bucket", "_count", "_sum"} {
					out[f[2]+s] = true
				}
			}
		}
	}
	return out
}

// TestAlertRulesUseExportedMetrics runs relaydesk with a number and a
// helpdesk, lets one customer message go through, and checks that every
// metric docs/alerts.yml names is on the real /metrics page.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "alerts.yml"))
	require.NoError(t, err)
	var rules alertRules
	require.NoError(t, yaml.Unmarshal(raw, &rules))
	used := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			names := metricName.FindAllString(r.Expr, -1)
			require.NotEmpty(t, names, "%s names no relaydesk metric", r.Alert)
			for _, n := range names {
				used[n] = true
			}
		}
	}

	graph := whatsapptest.Start(t, whatsapptest.Options{})
	zd := zendesktest.New(t)
	zc := zd.Config()
	const secret = "alerts-app-secret"
	file := &config.File{Path: "alerts",
		WhatsApp: []config.WhatsAppEntry{{Name: "support", PhoneNumberID: whatsapptest.FixturePhoneNumberID,
			WABAID: whatsapptest.FixtureWABAID, AccessToken: graph.AccessToken(), AppSecret: secret, VerifyToken: "v",
			GraphURL: graph.URL(), GraphVersion: graph.Version(), SendRate: 80}},
		Helpdesks: []config.HelpdeskEntry{{Name: "zendesk", Kind: "zendesk", BaseURL: zc.BaseURL, Settings: zc.Settings,
			Credentials: zc.Credentials, WebhookSecret: string(zd.WebhookSecret())}},
		Routes: []config.RouteEntry{{WhatsApp: "support", Helpdesk: "zendesk", Reopen: time.Hour}},
	}
	cfg := testConfig(t, testdb.Name(testdb.Empty(t)), true)
	base, stop := startWith(t, cfg, file)
	defer func() { require.NoError(t, stop()) }()

	body := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Text("16505551234", "hello").Bytes()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/whatsapp", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var page string
	require.Eventually(t, func() bool {
		_, page = get(t, base+"/metrics")
		return strings.Contains(page, `relaydesk_outbound_call_duration_seconds_count{name="zendesk",outcome="ok",target="helpdesk"}`)
	}, 30*time.Second, 100*time.Millisecond, "the helpdesk calls of the delivery are measured")
	exported := exportedFamilies(page)
	// Breakers are listed only once their target failed; with nothing
	// failing their family is absent, so it is checked in the source.
	breakers, err := os.ReadFile(filepath.Join("..", "metrics", "breakers.go"))
	require.NoError(t, err)
	for n := range used {
		if strings.HasPrefix(n, "relaydesk_breaker_") {
			require.Contains(t, string(breakers), `"`+n+`"`, "docs/alerts.yml uses %s, which relaydesk does not export", n)
			continue
		}
		require.True(t, exported[n], "docs/alerts.yml uses %s, which relaydesk does not export", n)
	}
	for _, want := range []string{`relaydesk_number_health{health="healthy",number="support"} 1`, // healthy from its first signed delivery
		`relaydesk_whatsapp_messages_received_total{number="support"} 1`,
		`relaydesk_oldest_waiting_message_age_seconds{direction="in"}`,
		`relaydesk_connection_messages_waiting{connection="zendesk"}`} {
		require.Contains(t, page, want)
	}

	if promtool, err := exec.LookPath("promtool"); err == nil {
		out, err := exec.Command(promtool, "check", "rules", filepath.Join("..", "..", "docs", "alerts.yml")).CombinedOutput()
		require.NoError(t, err, "promtool check rules: %s", out)
	}
}
