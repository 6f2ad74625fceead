package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/config"
)

var fileEnv = map[string]string{
	"WA_TOKEN":          "EAAG-token",
	"WA_APP_SECRET":     "app-secret",
	"WA_VERIFY_TOKEN":   "verify-me",
	"ZD_TOKEN":          "zd-token",
	"ZD_WEBHOOK_SECRET": "zd-hook",
}

// onlyZendesk stands in for the connector registry.
func onlyZendesk(h config.HelpdeskEntry) error {
	if h.Kind != "zendesk" {
		return fmt.Errorf("no connector is registered for kind %q", h.Kind)
	}
	var errs []error
	if h.Credentials["api_token"] == "" {
		errs = append(errs, config.KeyError{Key: "credentials.api_token", Msg: "is required"})
	}
	if h.BaseURL == "" && h.Settings["subdomain"] == nil {
		errs = append(errs, config.KeyError{Key: "settings.subdomain", Msg: "is required"})
	}
	return errors.Join(errs...)
}

func TestLoadFileExample(t *testing.T) {
	t.Parallel()

	f, err := config.LoadFile("testdata/relaydesk.yaml", env(fileEnv), onlyZendesk)
	require.NoError(t, err)

	require.Len(t, f.WhatsApp, 1)
	a := f.WhatsApp[0]
	require.Equal(t, "support-us", a.Name)
	require.Equal(t, "106540352242922", a.PhoneNumberID)
	require.Equal(t, "EAAG-token", a.AccessToken)
	require.Equal(t, "app-secret", a.AppSecret)
	require.Equal(t, "verify-me", a.VerifyToken)
	require.Equal(t, "v23.0", a.GraphVersion)
	require.Equal(t, 80, a.SendRate, "Meta's default throughput")
	require.Equal(t, 2, a.Line)

	require.Len(t, f.Helpdesks, 1)
	h := f.Helpdesks[0]
	require.Equal(t, "zendesk", h.Kind)
	require.Equal(t, map[string]string{"email": "agent@acme.test", "api_token": "zd-token"}, h.Credentials)
	require.Equal(t, "zd-hook", h.WebhookSecret)

	require.Len(t, f.Routes, 1)
	r := f.Routes[0]
	require.Equal(t, 72*time.Hour, r.Reopen)
	require.Equal(t, []string{"whatsapp"}, r.Tags)
	require.Equal(t, &config.TemplateRef{Name: "hello_world", Language: "en_US"}, r.ReengagementTemplate)
}

func TestParseFileErrors(t *testing.T) {
	t.Parallel()

	const base = `whatsapp:
  - name: a
    phone_number_id: "1"
    waba_id: "2"
    access_token: t
    app_secret: s
    verify_token: v
helpdesks:
  - name: h
    kind: zendesk
    credentials: {api_token: x}
`
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown top-level key", base + "rutes: []\n", []string{"relaydesk.yaml:12: rutes: unknown key"}},
		{"unknown read policy", strings.Replace(base, "    verify_token: v\n", "    verify_token: v\n    read_policy: always\n", 1),
			[]string{"relaydesk.yaml:8: whatsapp[0].read_policy: must be off or on_reply"}},
		{"unknown account key", base + "routes:\n  - whatsapp: a\n    helpdesk: h\n    reopen: 3h\n", []string{"relaydesk.yaml:15: routes[0].reopen: unknown key"}},
		{"route to missing account", base + "routes:\n  - whatsapp: support-eu\n    helpdesk: h\n", []string{`relaydesk.yaml:13: routes[0].whatsapp: no whatsapp entry is named "support-eu"`}},
		{"route to missing helpdesk", base + "routes:\n  - whatsapp: a\n    helpdesk: nope\n", []string{`relaydesk.yaml:14: routes[0].helpdesk: no helpdesk entry is named "nope"`}},
		{"a setting's problem names its line and key", `helpdesks:
  - name: h
    kind: zendesk
    settings: {}
`, []string{"relaydesk.yaml:4: helpdesks[0].settings.subdomain: is required", "relaydesk.yaml:2: helpdesks[0].credentials.api_token: is required"}},
		{"a nested key's own line", `helpdesks:
  - name: h
    kind: zendesk
    credentials:
      api_token: ""
`, []string{"relaydesk.yaml:5: helpdesks[0].credentials.api_token: is required"}},
		{"unregistered kind", `helpdesks:
  - name: h
    kind: supportdesk-9000
`, []string{`relaydesk.yaml:3: helpdesks[0].kind: no connector is registered for kind "supportdesk-9000"`}},
		{"missing env var", `whatsapp:
  - name: a
    phone_number_id: "1"
    waba_id: "2"
    access_token: ${NOT_SET_ANYWHERE}
    app_secret: s
    verify_token: v
`, []string{"relaydesk.yaml:5: ${NOT_SET_ANYWHERE} refers to environment variable NOT_SET_ANYWHERE, which is not set"}},
		{"missing required fields", "whatsapp:\n  - name: a\n", []string{
			"relaydesk.yaml:2: whatsapp[0].phone_number_id: is required",
			"whatsapp[0].waba_id: is required", "whatsapp[0].access_token: is required",
			"whatsapp[0].app_secret: is required", "whatsapp[0].verify_token: is required"}},
		{"duplicate names", base + "  - name: h\n    kind: zendesk\n    credentials: {api_token: y}\n", []string{`relaydesk.yaml:12: helpdesks[1].name: "h" is used by another helpdesk entry`}},
		{"bad values", `whatsapp:
  - name: a
    phone_number_id: "+1 555"
    waba_id: "2"
    access_token: t
    app_secret: s
    verify_token: v
    graph_version: "23"
    graph_url: "ftp://x"
`, []string{"relaydesk.yaml:3: whatsapp[0].phone_number_id: must be the numeric id", "relaydesk.yaml:8: whatsapp[0].graph_version", "relaydesk.yaml:9: whatsapp[0].graph_url"}},
		{"bad route options", base + `routes:
  - whatsapp: a
    helpdesk: h
    reopen_window: soon
    match: {kind: moon}
    reengagement_template: {name: x}
`, []string{"relaydesk.yaml:15: routes[0].reopen_window", "relaydesk.yaml:16: routes[0].match.kind", "relaydesk.yaml:17: routes[0].reengagement_template"}},
		{"not yaml", "whatsapp: [\n", []string{"relaydesk.yaml:"}},
		{"wrong type", "whatsapp: hello\n", []string{"relaydesk.yaml:1:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.ParseFile("relaydesk.yaml", []byte(tt.yaml), env(fileEnv), onlyZendesk)
			require.Error(t, err)
			var fe *config.FileErrors
			require.ErrorAs(t, err, &fe)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseFileOptional(t *testing.T) {
	t.Parallel()

	t.Run("empty file", func(t *testing.T) {
		f, err := config.ParseFile("empty.yaml", nil, env(nil), onlyZendesk)
		require.NoError(t, err)
		require.Empty(t, f.WhatsApp)
	})
	t.Run("route defaults and rules", func(t *testing.T) {
		y := `whatsapp:
  - {name: a, phone_number_id: "1", waba_id: "2", access_token: t, app_secret: s, verify_token: v, send_rate: 250}
helpdesks:
  - {name: h, kind: zendesk, base_url: https://acme.zendesk.com, credentials: {api_token: x}}
routes:
  - {whatsapp: a, helpdesk: h, match: {kind: country, value: "49"}, reopen_window: 3d}
`
		f, err := config.ParseFile("x.yaml", []byte(y), env(nil), onlyZendesk)
		require.NoError(t, err)
		require.Equal(t, 250, f.WhatsApp[0].SendRate)
		require.Equal(t, 72*time.Hour, f.Routes[0].Reopen)
		require.Equal(t, "country", f.Routes[0].Match.Kind)
	})
	t.Run("a value is taken literally after expansion", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "r.yaml")
		y := "whatsapp:\n  - {name: a, phone_number_id: \"1\", waba_id: \"2\", access_token: \"${TOK}\", app_secret: s, verify_token: v}\n"
		require.NoError(t, os.WriteFile(p, []byte(y), 0o600))
		f, err := config.LoadFile(p, env(map[string]string{"TOK": "a: b # not a comment"}), onlyZendesk)
		require.NoError(t, err)
		require.Equal(t, "a: b # not a comment", f.WhatsApp[0].AccessToken)
	})
}
