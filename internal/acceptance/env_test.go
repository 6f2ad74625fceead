package acceptance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/secret"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// client is the HTTP client of the test's own calls (webhooks as Meta and
// the helpdesks send them).
var client = &http.Client{Timeout: 15 * time.Second}

// env is one helpdesk kind's deployment: relaydesk with its own database,
// the fake Graph API and the helpdesk.
type env struct {
	desk      *desk
	graph     *whatsapptest.Server
	proc      *process
	pool      *pgxpool.Pool
	st        *store.Store
	appSecret []byte
	// connection is the helpdesk's name in the file.
	connection string
	// wrote is what each customer wrote, in order, as their ticket must
	// hold it; checked again after the restarts.
	wrote map[string][]string
}

// configFile is the declarative file, in the shape of the README's example:
// every secret and address comes from the environment.
var configFile = template.Must(template.New("relaydesk.yaml").Parse(`whatsapp:
  - name: support
    phone_number_id: "{{.PhoneNumberID}}"
    waba_id: "{{.WABAID}}"
    display_phone_number: "{{.DisplayPhoneNumber}}"
    access_token: ${WA_TOKEN}
    app_secret: ${WA_APP_SECRET}
    verify_token: ${WA_VERIFY_TOKEN}
    graph_url: ${WA_GRAPH_URL}
    graph_version: {{.GraphVersion}}
helpdesks:
  - name: {{.Name}}
    kind: {{.Kind}}
    base_url: ${HELPDESK_URL}
    settings: {{.Settings}}
    credentials: { {{- .Credentials -}} }
routes:
  - whatsapp: support
    helpdesk: {{.Name}}
    reopen_window: 72h
    tags: [whatsapp]
`))

// setup deploys relaydesk for d as a user would: it writes the file,
// runs `relaydesk check-config` and `relaydesk migrate up` on a fresh
// database, then starts `relaydesk serve`.
func setup(t *testing.T, d *desk) *env {
	t.Helper()
	e := &env{desk: d, connection: d.kind + "-main", appSecret: []byte(secret.GenerateKey()), wrote: map[string][]string{}}
	e.graph = whatsapptest.Start(t, whatsapptest.Options{})
	e.pool = testdb.Empty(t)
	e.st = store.New(e.pool, nil)

	environ := []string{
		"DATABASE_URL=" + testdb.URLFor(testdb.Name(e.pool)),
		"RELAYDESK_SECRET_KEY=" + secret.GenerateKey(),
		"WA_TOKEN=" + e.graph.AccessToken(),
		"WA_APP_SECRET=" + string(e.appSecret),
		"WA_VERIFY_TOKEN=verify-" + d.kind,
		"WA_GRAPH_URL=" + e.graph.URL(),
		"HELPDESK_URL=" + d.baseURL(),
	}
	for _, k := range slices.Sorted(maps.Keys(d.cfg.Credentials)) {
		environ = append(environ, credentialVar(k)+"="+d.cfg.Credentials[k])
	}
	if !d.allDefaults {
		// Five processes share one PostgreSQL: all but the case that keeps
		// every default take a smaller pool (a documented setting).
		environ = append(environ, "RELAYDESK_DB_MAX_CONNS=10")
	}
	path := filepath.Join(t.TempDir(), "relaydesk.yaml")
	environ = append(environ, "RELAYDESK_CONFIG="+path)
	e.proc = newProcess(t, environ)

	e.writeConfig(t, path)
	if out, err := e.proc.command("check-config"); err != nil {
		t.Fatalf("relaydesk check-config: %v\n%s", err, out)
	}
	if out, err := e.proc.command("migrate", "up"); err != nil {
		t.Fatalf("relaydesk migrate up: %v\n%s", err, out)
	}
	e.proc.start(t)
	return e
}

// addressSettings name, per kind, the setting that gives the helpdesk's
// address: the file gives the address once, as base_url, instead.
var addressSettings = map[string]string{
	"zendesk": "subdomain", "freshdesk": "domain", "rt": "url", "chatwoot": "base_url", "zammad": "base_url",
}

// baseURL is the helpdesk's address (the fake's, or RT's proxy).
func (d *desk) baseURL() string {
	if d.cfg.BaseURL != "" {
		return d.cfg.BaseURL
	}
	return connectors.AsString(d.cfg.Settings["base_url"])
}

// settings are the connection's settings as the file declares them: the
// fake's, without the address (Zendesk's are then {}, as in the README),
// with the poll interval when set.
func (d *desk) settings() map[string]any {
	s := maps.Clone(d.cfg.Settings)
	delete(s, addressSettings[d.kind])
	if d.pollSeconds != 0 {
		s[connectors.SettingPollInterval] = d.pollSeconds
	}
	return s
}

// credentialVar names the environment variable holding a credential.
func credentialVar(key string) string { return "HELPDESK_" + strings.ToUpper(key) }

// writeConfig writes the declarative file with these settings.
func (e *env) writeConfig(t *testing.T, path string) {
	t.Helper()
	flow, err := json.Marshal(e.desk.settings()) // a JSON object is a YAML flow mapping
	if err != nil {
		t.Fatal(err)
	}
	var creds []string
	for _, k := range slices.Sorted(maps.Keys(e.desk.cfg.Credentials)) {
		creds = append(creds, fmt.Sprintf("%s: ${%s}", k, credentialVar(k)))
	}
	var b bytes.Buffer
	err = configFile.Execute(&b, map[string]any{
		"PhoneNumberID": whatsapptest.FixturePhoneNumberID, "WABAID": whatsapptest.FixtureWABAID,
		"DisplayPhoneNumber": whatsapptest.FixtureDisplayPhoneNumber, "GraphVersion": e.graph.Version(),
		"Name": e.connection, "Kind": e.desk.kind,
		"Settings": string(flow), "Credentials": strings.Join(creds, ", "),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// customers hands out WhatsApp ids no earlier run used (a real RT keeps
// its users between runs).
var customers atomic.Int64

func init() { customers.Store(time.Now().UnixMilli() % 1e7 * 100) }

// newCustomer returns a fresh customer's WhatsApp id (a German mobile
// number).
func newCustomer() string { return fmt.Sprintf("4915%09d", customers.Add(1)) }

// message is a webhook delivery of one customer text sent at time at.
func message(waID, text string, at time.Time) []byte {
	return whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).At(at).Text(waID, text).Bytes()
}

// post delivers a webhook body to relaydesk as Meta does, signed with the
// app secret; anything but 200 is an error (Meta would retry).
func (e *env) post(body []byte) error { return e.postTo(e.proc, body) }

// postTo delivers a webhook body to one relaydesk process.
func (e *env) postTo(p *process, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, p.listenURL()+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody(e.appSecret, body))
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /webhooks/whatsapp: %s", resp.Status)
	}
	return nil
}

// says delivers one customer text, which relaydesk must accept.
func (e *env) says(t *testing.T, waID, text string, at time.Time) {
	t.Helper()
	if err := e.post(message(waID, text, at)); err != nil {
		t.Fatalf("customer %s writes %q: %v", waID, text, err)
	}
	e.wrote[waID] = append(e.wrote[waID], text)
}

// holds reports an error unless the customer's one ticket holds what they
// wrote, each message once and in order.
func (e *env) holds(waID string) error {
	tk, err := e.desk.ticketOf(waID)
	if err != nil {
		return err
	}
	if got, want := e.desk.customerComments(tk), e.wrote[waID]; !slices.Equal(got, want) {
		return fmt.Errorf("ticket %s holds %q, want %q", tk.ID, got, want)
	}
	return nil
}

// sentTo lists what relaydesk sent to a customer on WhatsApp: the text of
// each text message, the type in brackets of anything else.
func (e *env) sentTo(waID string) []string {
	var got []string
	for _, m := range e.graph.Sent() {
		if connectors.Digits(m.To) != waID {
			continue
		}
		if m.Type == "text" {
			got = append(got, m.Text)
		} else {
			got = append(got, "["+m.Type+"]")
		}
	}
	return got
}

// ticket waits for the customer's one ticket and returns it.
func (e *env) ticket(t *testing.T, waID string) connectortest.Ticket {
	t.Helper()
	var tk connectortest.Ticket
	waitFor(t, "a ticket for customer "+waID+" in "+e.desk.kind, 2*time.Minute, func() (err error) {
		tk, err = e.desk.ticketOf(waID)
		return err
	})
	return tk
}

// awaitAgentSide waits until relaydesk hears the helpdesk's agents: a
// webhook it installed, or, for a polled helpdesk, a first poll (which
// starts from now, so agent activity must come after it).
func (e *env) awaitAgentSide(t *testing.T) {
	t.Helper()
	if e.desk.polled() {
		waitFor(t, "a first poll of "+e.desk.kind, 3*time.Minute, func() error {
			c, err := e.st.ConnectionByName(context.Background(), e.connection)
			if err != nil {
				return err
			}
			if c.PollCursor == "" {
				return fmt.Errorf("connection %s has no poll cursor yet", e.connection)
			}
			return nil
		})
		return
	}
	waitFor(t, "relaydesk installs its webhook in "+e.desk.kind+" (no webhook_secret in the file)", 2*time.Minute, func() error {
		if n := e.desk.installedFor(e.proc.baseURL).webhooks; n == 0 {
			return fmt.Errorf("no webhook in %s points at %s", e.desk.kind, e.proc.baseURL)
		}
		return nil
	})
}

// provisioningSettled reports an error while a webhook provisioning job is
// still to run.
func (e *env) provisioningSettled() error {
	var open int
	err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
		WHERE kind = 'provision_webhook' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&open)
	if err != nil {
		return fmt.Errorf("read provisioning jobs: %w", err)
	}
	if open > 0 {
		return fmt.Errorf("%d provision_webhook jobs still to run", open)
	}
	return nil
}
