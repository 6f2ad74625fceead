package bridge

// Webhook provisioning: relaydesk installs the helpdesk-side webhook of
// every connection whose connector can (connectors.WebhookInstaller),
// whatever declared the connection, unless the configuration file gives the
// webhook secret. A River job per connection (ProvisionWebhookArgs) does it
// after start and after each change of the connection's settings; the
// admin page calls ProvisionWebhook directly. The connectors reuse the
// webhook already at the callback URL, so repeats end with one webhook.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/metrics"
	"github.com/relaydesk/relaydesk/internal/store"
)

// WebhookURL is a connection's callback URL, where its helpdesk sends its
// events: the service's public base URL, "/webhooks/helpdesk/" and the
// connection's public id.
func WebhookURL(base, publicID string) string {
	return strings.TrimRight(base, "/") + "/webhooks/helpdesk/" + publicID
}

// Provision is one request to install a connection's webhook.
type Provision struct {
	// Base is the service's public URL (default: Opts.APIBaseURL).
	Base string
	// Rotate removes the webhook first, so that the helpdesk signs its
	// events with a new secret.
	Rotate bool
	// Who is recorded in the audit log (default: "relaydesk").
	Who store.Actor
	// LastAttempt marks a transient failure as final (the job's last try).
	LastAttempt bool
}

// ProvisionOutcome is what ProvisionWebhook did; it is the outcome label of
// relaydesk_helpdesk_webhook_provision_total.
type ProvisionOutcome string

// The outcomes of ProvisionWebhook.
const (
	// ProvisionSkipped: the connector installs no webhook, or the file gives
	// the secret.
	ProvisionSkipped     ProvisionOutcome = "skipped"
	ProvisionInstalled   ProvisionOutcome = "installed"
	ProvisionRotated     ProvisionOutcome = "rotated"
	ProvisionRetrying    ProvisionOutcome = "retrying"
	ProvisionRateLimited ProvisionOutcome = "rate_limited"
	// ProvisionFailed is final: a settings change or the admin page's
	// button starts again.
	ProvisionFailed ProvisionOutcome = "failed"
)

// ProvisionResult says what ProvisionWebhook did and why.
type ProvisionResult struct {
	Outcome ProvisionOutcome
	// Endpoint is the callback URL the webhook was installed at.
	Endpoint string
	// Detail explains a skip or a failure in plain words.
	Detail string
	// FromFile reports a skip because the file gives the secret.
	FromFile bool
}

// provisionJob is a connection's provisioning job. It is not unique in
// River: the connection's row is claimed instead (webhook_state becomes
// "pending" in the transaction that inserts the job), so that replicas
// starting together enqueue one job, and a request made while the previous
// job finishes is not taken for a duplicate of it.
func provisionJob(id store.ConnectionID) river.InsertManyParams {
	return river.InsertManyParams{Args: ProvisionWebhookArgs{ConnectionID: id}}
}

// ProvisionWebhooks enqueues a provisioning job for each enabled connection
// that needs one: its connector installs webhooks, the file does not give
// its secret, and its webhook is not installed at the current callback URL
// with the current settings. It returns how many it enqueued. Without a
// public base URL nothing can be installed and nothing is enqueued.
func (b *Bridge) ProvisionWebhooks(ctx context.Context) (int, error) {
	if b.apiBase == "" {
		return 0, nil
	}
	conns, err := b.store.Connections(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range conns {
		if !row.Enabled || row.Webhook.Source == store.WebhookSourceFile || row.Webhook.State == store.WebhookStatePending ||
			row.Webhook.Current(WebhookURL(b.apiBase, row.PublicID)) || !b.installs(row) {
			continue
		}
		err := b.store.InTx(ctx, func(tx *store.Tx) error {
			claimed, err := tx.ClaimWebhookProvision(ctx, row.ID)
			if err != nil || !claimed {
				return err
			}
			n++
			return b.enqueue(ctx, tx, []river.InsertManyParams{provisionJob(row.ID)})
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// EnqueueProvision enqueues one connection's provisioning job (after a
// change of its settings, or a failed attempt from the admin page).
func (b *Bridge) EnqueueProvision(ctx context.Context, id store.ConnectionID) error {
	return b.enqueueAlone(ctx, []river.InsertManyParams{provisionJob(id)})
}

// ProvisionAgain reports whether a connection's settings changed while its
// provisioning job ran (no other job was enqueued: the row was claimed), so
// that the job runs once more.
func (b *Bridge) ProvisionAgain(ctx context.Context, id store.ConnectionID) (bool, error) {
	row, err := b.store.ConnectionByID(ctx, id)
	if err != nil {
		return false, err
	}
	return row.Webhook.State == store.WebhookStateInstalled && !row.Webhook.SettingsUnchanged, nil
}

// installs reports whether a connection's connector installs its webhook.
func (b *Bridge) installs(row store.Connection) bool {
	creds, err := b.store.Credentials(row)
	if err != nil {
		b.log.Warn("cannot open connection credentials", "connection", row.Name, "err", err)
		return false
	}
	c, err := b.connectors(row, creds, b.callClient(CallHelpdesk, row.Name))
	if err != nil {
		b.log.Warn("connection settings cannot be used; its webhook is not installed", "connection", row.Name, "err", err)
		return false
	}
	_, ok := c.(connectors.WebhookInstaller)
	return ok
}

// ProvisionWebhook installs a connection's webhook at its callback URL (or
// adopts the one already there), stores the signing secret sealed, and
// uninstalls the webhook at a previous callback URL. The outcome is
// recorded on the connection and counted in the metrics. Rate limits
// return a SnoozeError and unreachable helpdesks the error, both with the
// connection left pending (River retries); refusals (credentials, rights,
// validation) are final: the result says so and the error is nil.
func (b *Bridge) ProvisionWebhook(ctx context.Context, id store.ConnectionID, p Provision) (ProvisionResult, error) {
	row, err := b.store.ConnectionByID(ctx, id)
	if err != nil {
		return ProvisionResult{}, err
	}
	res, err := b.provision(ctx, row, p)
	metrics.WebhookProvisions.WithLabelValues(row.Kind, string(res.Outcome)).Inc()
	return res, err
}

func (b *Bridge) provision(ctx context.Context, row store.Connection, p Provision) (ProvisionResult, error) {
	name := displayName(row.Kind)
	if row.Webhook.Source == store.WebhookSourceFile {
		return ProvisionResult{Outcome: ProvisionSkipped, FromFile: true,
			Detail: "The configuration file gives this connection's webhook_secret, so relaydesk installs nothing in " + name + "."}, nil
	}
	creds, err := b.store.Credentials(row)
	if err != nil {
		return ProvisionResult{}, err
	}
	c, err := b.connectors(row, creds, b.callClient(CallHelpdesk, row.Name))
	if err != nil {
		return b.provisionFailed(ctx, row, ProvisionFailed, "The settings could not be used: "+err.Error())
	}
	wi, ok := c.(connectors.WebhookInstaller)
	if !ok {
		if row.Webhook.State != store.WebhookStateNone {
			err = b.store.SetWebhookState(ctx, row.ID, store.WebhookStateNone, "")
		}
		return ProvisionResult{Outcome: ProvisionSkipped, Detail: name + " cannot install its webhook through its API."}, err
	}
	if p.Base == "" {
		p.Base = b.apiBase
	}
	if p.Who.Name == "" {
		p.Who.Name = "relaydesk"
	}
	endpoint := WebhookURL(p.Base, row.PublicID)
	secret, err := b.install(ctx, wi, row, endpoint, p.Rotate)
	if err != nil {
		return b.installFailed(ctx, row, err, p.LastAttempt)
	}
	how := ProvisionInstalled
	if p.Rotate {
		how = ProvisionRotated
	}
	if err := b.store.RecordWebhookInstalled(ctx, row, secret, endpoint, string(how), p.Who); err != nil {
		return ProvisionResult{}, err
	}
	_ = b.store.SetConnectionHealth(ctx, row.ID, "healthy", "webhook "+string(how))
	return ProvisionResult{Outcome: how, Endpoint: endpoint}, nil
}

// install makes the helpdesk call endpoint (after removing the webhook
// there first when rotating) and removes relaydesk's webhook at a previous
// endpoint (RELAYDESK_BASE_URL changed).
func (b *Bridge) install(ctx context.Context, wi connectors.WebhookInstaller, row store.Connection, endpoint string, rotate bool) ([]byte, error) {
	ictx, cancel := context.WithTimeout(ctx, 3*b.timeout)
	defer cancel()
	if rotate {
		if err := wi.UninstallWebhook(ictx, endpoint); err != nil {
			return nil, fmt.Errorf("remove the old webhook: %w", err)
		}
	}
	secret, err := wi.InstallWebhook(ictx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("install webhook: %w", err)
	}
	if old := row.Webhook.Endpoint; old != "" && old != endpoint && row.Webhook.Source == store.WebhookSourceInstalled {
		if err := wi.UninstallWebhook(ictx, old); err != nil {
			return nil, fmt.Errorf("remove the webhook at %s: %w", old, err)
		}
	}
	return secret, nil
}

// installFailed classifies a failed install: a rate limit snoozes, a
// refusal is final, anything else is retried with backoff until the last
// attempt.
func (b *Bridge) installFailed(ctx context.Context, row store.Connection, err error, last bool) (ProvisionResult, error) {
	name := displayName(row.Kind)
	detail := PlainConnectorError(err, name)
	_ = b.store.SetConnectionHealth(context.WithoutCancel(ctx), row.ID, HealthOf(err), detail)
	switch connectors.ClassOf(err) {
	case connectors.ClassRateLimited:
		wait, _ := connectors.IsRateLimited(err)
		res, serr := b.provisionFailed(ctx, row, ProvisionRateLimited, detail)
		if serr == nil {
			serr = b.snooze(max(wait, time.Second))
		}
		return res, serr
	case connectors.ClassAuth, connectors.ClassPermanent, connectors.ClassNotFound:
		return b.provisionFailed(ctx, row, ProvisionFailed, detail)
	}
	if last {
		return b.provisionFailed(ctx, row, ProvisionFailed, detail+" relaydesk stopped retrying: save the settings or press Install webhook to try again.")
	}
	res, serr := b.provisionFailed(ctx, row, ProvisionRetrying, detail+" relaydesk keeps retrying.")
	if serr == nil {
		serr = fmt.Errorf("connection %s: %w", row.Name, err)
	}
	return res, serr
}

// provisionFailed records a failed or postponed install on the connection.
func (b *Bridge) provisionFailed(ctx context.Context, row store.Connection, o ProvisionOutcome, detail string) (ProvisionResult, error) {
	state := store.WebhookStatePending
	if o == ProvisionFailed {
		state = store.WebhookStateFailed
		b.log.Warn("webhook not installed", "connection", row.Name, "detail", detail)
	}
	err := b.store.SetWebhookState(context.WithoutCancel(ctx), row.ID, state, detail)
	return ProvisionResult{Outcome: o, Detail: detail}, err
}

func displayName(kind string) string {
	if reg, ok := connectors.Lookup(kind); ok {
		return reg.Description.DisplayName
	}
	return kind
}

// HealthOf is the connection health a failed helpdesk call leaves.
func HealthOf(err error) string {
	switch connectors.ClassOf(err) {
	case connectors.ClassAuth:
		return "auth_failed"
	case connectors.ClassRateLimited:
		return "rate_limited"
	case connectors.ClassPermanent, connectors.ClassNotFound:
		return "attention"
	}
	return "unreachable"
}

// PlainConnectorError explains a failed call to the helpdesk called name.
func PlainConnectorError(err error, name string) string {
	switch connectors.ClassOf(err) {
	case connectors.ClassAuth:
		return name + " refused the credentials: they are wrong, were revoked, or lack admin rights. (" + err.Error() + ")"
	case connectors.ClassRateLimited:
		wait, _ := connectors.IsRateLimited(err)
		return fmt.Sprintf("%s asked relaydesk to slow down; try again in %s.", name, max(wait, time.Second).Round(time.Second))
	case connectors.ClassNotFound:
		return name + " answered “not found”: check the subdomain or base URL. (" + err.Error() + ")"
	case connectors.ClassPermanent:
		return name + " refused the request: " + err.Error()
	}
	if msg, ok := PlainNetError(err); ok {
		return "relaydesk could not reach " + name + ": " + msg
	}
	return "relaydesk could not reach " + name + ": " + err.Error()
}
