package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// onlineTimeout bounds each call `check-config --online` makes (Graph, a
// helpdesk, the database). The checks make no retries: each line says what
// failed and what to do, and running the command again is the retry.
const onlineTimeout = 15 * time.Second

// checkLine is one line of the online check's report.
type checkLine struct {
	failed bool
	what   string   // "whatsapp support-us"
	parts  []string // what works, or what failed and what to do
}

func (l *checkLine) ok(format string, args ...any) {
	l.parts = append(l.parts, fmt.Sprintf(format, args...))
}

func (l *checkLine) fail(format string, args ...any) {
	l.failed = true
	l.ok(format, args...)
}

func (l checkLine) String() string {
	status := "ok  "
	if l.failed {
		status = "FAIL"
	}
	return status + " " + l.what + ": " + strings.Join(l.parts, "; ")
}

// onlineCheck contacts what the configuration names. hc makes every HTTP
// call; connections reads relaydesk's view of the helpdesk connections (nil
// when the database cannot be reached, with why in dbProblem).
type onlineCheck struct {
	cfg         *config.Config
	hc          *http.Client
	connections map[string]store.Connection
	dbProblem   string
}

// checkOnline prints one line per number and helpdesk of file and returns
// an error when any of them fails.
func checkOnline(ctx context.Context, cfg *config.Config, file *config.File, stdout io.Writer) error {
	if file == nil || len(file.WhatsApp)+len(file.Helpdesks) == 0 {
		fmt.Fprintln(stdout, "nothing to check online: RELAYDESK_CONFIG declares no whatsapp number and no helpdesk")
		return nil
	}
	oc := &onlineCheck{cfg: cfg, hc: &http.Client{Timeout: onlineTimeout}}
	oc.loadConnections(ctx)
	var lines []checkLine
	for _, a := range file.WhatsApp {
		lines = append(lines, oc.number(ctx, a))
	}
	for _, h := range file.Helpdesks {
		lines = append(lines, oc.helpdesk(ctx, h))
	}
	failed := 0
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
		if l.failed {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("online check: %d of %d failed", failed, len(lines))
	}
	return nil
}

// loadConnections reads the stored connections, for their webhook state.
func (oc *onlineCheck) loadConnections(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	pool, err := store.OpenPool(ctx, oc.cfg.DatabaseURL, 2)
	if err == nil {
		defer pool.Close()
		err = pool.Ping(ctx)
	}
	if err != nil {
		oc.dbProblem = "the database at DATABASE_URL cannot be reached (" + err.Error() + ")"
		return
	}
	conns, err := store.New(pool, nil).Connections(ctx)
	if err != nil {
		oc.dbProblem = "the database has no relaydesk schema yet (" + err.Error() + ")"
		return
	}
	oc.connections = map[string]store.Connection{}
	for _, c := range conns {
		oc.connections[c.Name] = c
	}
}

// number checks a WhatsApp number: the token and phone number id (GET
// /{phone-number-id}), and that an app receives the WABA's webhooks (GET
// /{waba-id}/subscribed_apps).
func (oc *onlineCheck) number(ctx context.Context, a config.WhatsAppEntry) checkLine {
	l := checkLine{what: "whatsapp " + a.Name}
	client, err := whatsapp.NewClient(whatsapp.ClientOpts{BaseURL: a.GraphURL, Version: a.GraphVersion,
		AccessToken: a.AccessToken, PhoneNumberID: a.PhoneNumberID, HTTPClient: oc.hc, Timeout: onlineTimeout})
	if err != nil {
		l.fail("%v", err)
		return l
	}
	info, err := client.PhoneNumber(ctx)
	if err != nil {
		l.fail("%s", graphAdvice(err, "phone_number_id "+a.PhoneNumberID))
		return l
	}
	l.ok("token valid, phone number %s is %s (%s, quality %s)", info.ID, info.DisplayPhoneNumber, info.VerifiedName, info.QualityRating)

	apps, err := oc.subscribedApps(ctx, a)
	callback := strings.TrimRight(oc.cfg.BaseURL.String(), "/") + "/webhooks/whatsapp"
	switch {
	case err != nil:
		l.fail("webhook subscription not readable: %s", graphAdvice(err, "waba_id "+a.WABAID))
	case len(apps) == 0:
		l.fail("no app receives WABA %s's webhooks: in the Meta App Dashboard (WhatsApp > Configuration) set the callback URL %s "+
			"with the verify token, subscribe the messages field, then POST /%s/subscribed_apps with this token", a.WABAID, callback, a.WABAID)
	default:
		var names []string
		for _, app := range apps {
			names = append(names, app.Data.Name)
			if app.Override != "" && app.Override != callback {
				l.fail("app %s sends this WABA's webhooks to %s, not %s: subscribe again with override_callback_uri %s", app.Data.Name, app.Override, callback, callback)
			}
		}
		l.ok("webhooks go to app %s (make sure its messages field is subscribed with callback URL %s)", strings.Join(names, ", "), callback)
	}
	return l
}

// subscribedApp is one entry of GET /{waba-id}/subscribed_apps.
type subscribedApp struct {
	Data struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"whatsapp_business_api_data"`
	Override string `json:"override_callback_uri"`
}

// subscribedApps lists the apps subscribed to the number's WABA. The
// whatsapp client has no call for it, so it is made here, with the same
// timeout and the Graph error shape.
func (oc *onlineCheck) subscribedApps(ctx context.Context, a config.WhatsAppEntry) ([]subscribedApp, error) {
	ctx, cancel := context.WithTimeout(ctx, onlineTimeout)
	defer cancel()
	u := strings.TrimRight(a.GraphURL, "/") + "/" + a.GraphVersion + "/" + url.PathEscape(a.WABAID) + "/subscribed_apps"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("subscribed apps: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+a.AccessToken)
	req.Header.Set("User-Agent", whatsapp.DefaultUserAgent)
	resp, err := oc.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("subscribed apps: %s", strings.ReplaceAll(err.Error(), a.AccessToken, "[redacted]"))
	}
	defer resp.Body.Close()
	var body struct {
		Data  []subscribedApp `json:"data"`
		Error *struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("subscribed apps: HTTP %d with an unreadable body", resp.StatusCode)
	}
	if body.Error != nil || resp.StatusCode != http.StatusOK {
		e := &whatsapp.APIError{HTTPStatus: resp.StatusCode}
		if body.Error != nil {
			e.GraphError, e.Code, e.Message = true, body.Error.Code, strings.ReplaceAll(body.Error.Message, a.AccessToken, "[redacted]")
		}
		return nil, e
	}
	return body.Data, nil
}

// graphAdvice says what a failed Graph call means and what to do.
func graphAdvice(err error, id string) string {
	class, _ := whatsapp.Classify(err)
	var apiErr *whatsapp.APIError
	switch {
	case class == whatsapp.ClassAuth:
		return "Graph rejected access_token (expired or revoked): create a new system user token in Meta Business Manager and set it"
	case errors.As(err, &apiErr) && apiErr.GraphError && (apiErr.Code == 100 || apiErr.Code == 33 || apiErr.Code == 803):
		return "Graph does not know " + id + " for this token: copy the id from WhatsApp Manager, and give the system user access to the WhatsApp account"
	case class == whatsapp.ClassRetry || class == whatsapp.ClassWait:
		return "Graph could not be reached or is busy (" + err.Error() + "): check graph_url and the network, then run the check again"
	case apiErr != nil:
		return apiErr.PlainReason() + " (" + err.Error() + ")"
	}
	return err.Error()
}

// helpdesk checks a helpdesk entry: its credentials (connectors.Tester) and
// its webhook (relaydesk's view of the installation, from the database).
func (oc *onlineCheck) helpdesk(ctx context.Context, h config.HelpdeskEntry) checkLine {
	l := checkLine{what: "helpdesk " + h.Name + " (" + h.Kind + ")"}
	stored, known := oc.connections[h.Name]
	conn := store.Connection{Name: h.Name, Kind: h.Kind, BaseURL: h.BaseURL, Settings: h.Settings}
	c, err := app.NewConnector(conn, h.Credentials, oc.hc)
	if err != nil {
		l.fail("%v", err)
		return l
	}
	if isOAuth(h) {
		l.ok("credentials not checked: OAuth connections are authorised in the admin page (Connect)")
	} else if t, ok := c.(connectors.Tester); ok {
		tctx, cancel := context.WithTimeout(ctx, onlineTimeout)
		err := t.Test(tctx)
		cancel()
		if err != nil {
			l.fail("%s", helpdeskAdvice(err))
			return l
		}
		l.ok("credentials accepted")
	}
	switch _, installs := c.(connectors.WebhookInstaller); {
	case h.WebhookSecret != "":
		l.ok("webhook: the file gives webhook_secret, so relaydesk installs nothing; the helpdesk's webhook must sign with it")
	case !installs:
		l.ok("webhook: none needed, relaydesk polls for agent replies")
	case oc.connections == nil:
		l.ok("webhook: not checked, %s; relaydesk installs it after `relaydesk serve` starts", oc.dbProblem)
	case !known:
		l.ok("webhook: not installed yet; relaydesk installs it after `relaydesk serve` applies the file")
	default:
		oc.webhookState(&l, stored)
	}
	return l
}

func isOAuth(h config.HelpdeskEntry) bool {
	return connectors.AsString(h.Settings[connectors.SettingAuthMethod]) == string(connectors.AuthOAuth2)
}

// webhookState reports relaydesk's installation of a stored connection's
// webhook.
func (oc *onlineCheck) webhookState(l *checkLine, c store.Connection) {
	w := c.Webhook
	endpoint := bridge.WebhookURL(oc.cfg.BaseURL.String(), c.PublicID)
	switch {
	case w.Source == store.WebhookSourceManual:
		l.ok("webhook: its secret was entered in the admin page; the helpdesk must send to %s", endpoint)
	case w.Current(endpoint):
		l.ok("webhook: installed at %s on %s", endpoint, w.InstalledAt.UTC().Format(time.RFC3339))
	case w.State == store.WebhookStateFailed:
		l.fail("webhook: installing failed: %s; fix it in the helpdesk, then press Install in the admin page or change the connection's settings", w.Error)
	case w.State == store.WebhookStateInstalled:
		l.ok("webhook: installed at %s with older settings; relaydesk installs it again after `relaydesk serve` starts", w.Endpoint)
	case w.Error != "":
		l.ok("webhook: relaydesk is installing it and retries (last error: %s)", w.Error)
	default:
		l.ok("webhook: not installed yet; relaydesk installs it after `relaydesk serve` starts")
	}
}

// helpdeskAdvice says what a failed credentials test means and what to do.
func helpdeskAdvice(err error) string {
	switch connectors.ClassOf(err) {
	case connectors.ClassAuth:
		return "the helpdesk refused the credentials (" + err.Error() + "): check them and the user's role"
	case connectors.ClassNotFound:
		return "the helpdesk answered \"not found\" (" + err.Error() + "): check base_url and the address setting"
	case connectors.ClassRetry, connectors.ClassRateLimited:
		return "the helpdesk could not be reached or is busy (" + err.Error() + "): check base_url and the network, then run the check again"
	}
	return err.Error()
}
