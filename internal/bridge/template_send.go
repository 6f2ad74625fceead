package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// templateLister is the Graph client's catalogue call (*whatsapp.Client).
type templateLister interface {
	ListTemplates(ctx context.Context, wabaID string) ([]whatsapp.TemplateInfo, error)
}

// catalogueTimeout bounds a whole catalogue read (every page).
const catalogueTimeout = 2 * time.Minute

// RefreshTemplates reads a number's template catalogue from Graph (every
// page) and stores it in place of the old one; it returns how many
// templates the number has.
func (b *Bridge) RefreshTemplates(ctx context.Context, accountID store.AccountID) (int, error) {
	acc, err := b.store.AccountByID(ctx, accountID)
	if err != nil {
		return 0, fmt.Errorf("load account: %w", err)
	}
	graph, err := b.graphClient(acc)
	if err != nil {
		return 0, err
	}
	l, ok := graph.(templateLister)
	if !ok {
		return 0, fmt.Errorf("the Graph client of %s cannot list templates", acc.Name)
	}
	lctx, cancel := context.WithTimeout(ctx, catalogueTimeout)
	defer cancel()
	ts, err := l.ListTemplates(lctx, acc.WABAID)
	if err != nil {
		return 0, fmt.Errorf("read the template catalogue of %s: %w", acc.Name, err)
	}
	if err := b.store.ReplaceTemplates(ctx, acc.ID, ts, b.now()); err != nil {
		return 0, err
	}
	return len(ts), nil
}

// RefreshAllTemplates refreshes every number's catalogue (the periodic
// job); a number whose read fails keeps its previous catalogue and the
// others still refresh. The first failure is returned.
func (b *Bridge) RefreshAllTemplates(ctx context.Context) error {
	accs, err := b.store.Accounts(ctx)
	if err != nil {
		return err
	}
	var first error
	for _, a := range accs {
		if _, err := b.RefreshTemplates(ctx, a.ID); err != nil {
			b.log.Warn("template catalogue not refreshed", "number", a.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// RefreshTemplatesArgs refreshes the template catalogue of one number, or
// of every number when AccountID is 0.
type RefreshTemplatesArgs struct {
	AccountID store.AccountID `json:"account_id,omitempty"`
}

// Kind implements river.JobArgs.
func (RefreshTemplatesArgs) Kind() string { return "refresh_templates" }

// agentTemplate reads an agent's reply as a template reply; API sends
// never are one.
func agentTemplate(m store.Message) (templateReply, bool) {
	if strings.HasPrefix(m.Author, "app:") {
		return templateReply{}, false
	}
	return parseTemplateReply(m.Body)
}

// sendTemplateReply sends an agent's template reply (template_reply.go)
// after checking it against the catalogue; what does not fit becomes a
// note and nothing is sent. A template may go while the window is closed;
// it reopens nothing, and the agent is told the customer must answer
// before free-form replies can go.
//
// conn and attachments are the reply's, from replyParts.
func (b *Bridge) sendTemplateReply(ctx context.Context, cc *convCtx, m store.Message, r templateReply,
	conn *connection, attachments []connectors.RemoteAttachment) error {
	all, err := b.store.TemplatesOf(ctx, cc.account.ID)
	if err != nil {
		return err
	}
	var t *store.CatalogueTemplate
	for i := range all {
		if all[i].Name == r.Name && all[i].Language == r.Language {
			t = &all[i]
		}
	}
	plan, problem := checkTemplateReply(r, t, all, attachments)
	if problem != "" {
		return b.failWithNote(ctx, m, "template_refused", problem)
	}
	to := recipient(cc.conv)
	if t != nil && authTemplateToPhoneless(t.Category, to) {
		cc.answered = true
		return b.failWithNote(ctx, m, "phoneless", phonelessNote)
	}
	if plan.headerFile != nil {
		id, err := b.uploadAttachment(ctx, cc.graph, conn, *plan.headerFile)
		if why := fileRefused(err); why != "" {
			cc.answered = true
			return b.failWithNote(ctx, m, "template_refused", fmt.Sprintf(
				"This template was NOT sent to the customer on WhatsApp: its header's file %q cannot go, because %s.", plan.headerFile.Filename, why))
		}
		if err != nil {
			return b.graphErr(ctx, cc, m, err)
		}
		p := whatsapp.TemplateParameter{Type: plan.headerKind}
		ref := &whatsapp.MediaRef{ID: id}
		switch plan.headerKind {
		case whatsapp.ParamImage:
			p.Image = ref
		case whatsapp.ParamVideo:
			p.Video = ref
		default:
			ref.Filename = plan.headerFile.Filename
			p.Document = ref
		}
		header := whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Parameters: []whatsapp.TemplateParameter{p}}
		plan.tpl.Components = append([]whatsapp.TemplateComponent{header}, plan.tpl.Components...)
	}
	if err := b.pace(ctx, cc.account, to); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, b.timeout)
	wamid, err := cc.graph.SendTemplate(sctx, to, plan.tpl)
	cancel()
	if err != nil {
		return b.graphErr(ctx, cc, m, err)
	}
	cc.answered = true
	if b.inWindow(cc.conv) {
		return b.recordSent(ctx, func(ctx context.Context) error { return b.store.MarkSent(ctx, m.ID, wamid) })
	}
	now := b.now()
	cc.conv.ReengagedAt = &now // no re-engagement template on top of this one
	return b.recordSent(ctx, func(ctx context.Context) error {
		return b.store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.MarkSent(ctx, m.ID, wamid); err != nil {
				return err
			}
			if err := tx.SetReengaged(ctx, cc.conv.ID, now); err != nil {
				return err
			}
			return b.enqueueNote(ctx, tx, m, fmt.Sprintf("The template %q was sent. The customer's last message is more than 24 hours old, "+
				"so WhatsApp still allows only templates: the customer must answer before free-form replies can go.", plan.tpl.Name), "template-window")
		})
	})
}

// uploadAttachment streams a helpdesk attachment into a Graph upload and
// returns its media id.
func (b *Bridge) uploadAttachment(ctx context.Context, graph Graph, conn *connection, a connectors.RemoteAttachment) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, mediaTimeout)
	defer cancel()
	rc, ctype, err := b.openRemoteAttachment(ctx, conn, a)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	return graph.UploadMedia(ctx, a.Filename, ctype, a.Size, rc)
}

// customerNameVars are the variable names of a named re-engagement
// template filled with the customer's WhatsApp profile name.
var customerNameVars = []string{"name", "customer_name", "first_name", "contact_name"}

// reengagementSend is the route's re-engagement template as sent: when the
// catalogue knows it, its text variables are filled from the contact (the
// customer's profile name, or "there" without one) and its ticket (a
// variable named ticket or ticket_id); without a catalogue entry it goes
// without variables, as before.
func (b *Bridge) reengagementSend(ctx context.Context, cc *convCtx, tpl store.Template) (whatsapp.Template, error) {
	wire := whatsapp.Template{Name: tpl.Name, Language: tpl.Language}
	t, err := b.store.TemplateOf(ctx, cc.account.ID, tpl.Name, tpl.Language)
	if errors.Is(err, store.ErrNotFound) {
		return wire, nil
	}
	if err != nil {
		return wire, err
	}
	name := strings.TrimSpace(cc.conv.ProfileName)
	if name == "" {
		name = "there"
	}
	v := t.Vars()
	var params []whatsapp.TemplateParameter
	for i, n := range v.Body {
		value := ""
		switch {
		case !v.Named && i == 0, v.Named && slices.Contains(customerNameVars, n):
			value = name
		default:
			value = "-" // a variable relaydesk has nothing for still needs a value
		}
		p := whatsapp.TemplateParameter{Type: whatsapp.ParamText, Text: value}
		if v.Named {
			p.ParameterName = n
		}
		params = append(params, p)
	}
	if len(params) > 0 {
		wire.Components = []whatsapp.TemplateComponent{{Type: whatsapp.ComponentBody, Parameters: params}}
	}
	return wire, nil
}

// recordReengagement records the re-engagement template as an outbound
// message of the reply's ticket, sent with its wamid, so its statuses and
// failures reach the ticket like any reply's; and marks the conversation
// re-engaged.
func (b *Bridge) recordReengagement(ctx context.Context, cc *convCtx, m store.Message, wire whatsapp.Template, wamid string, at time.Time) error {
	return b.recordSent(ctx, func(ctx context.Context) error { return b.recordReengagementTx(ctx, cc, m, wire, wamid, at) })
}

func (b *Bridge) recordReengagementTx(ctx context.Context, cc *convCtx, m store.Message, wire whatsapp.Template, wamid string, at time.Time) error {
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		id, _, err := tx.InsertOutbound(ctx, store.Outbound{ConversationID: cc.conv.ID, ConnectionID: m.ConnectionID,
			TicketID: m.TicketID, Kind: whatsapp.TypeTemplate, Body: "[re-engagement template " + wire.Name + "]",
			Author: "relaydesk:reengagement"})
		if err != nil {
			return err
		}
		if err := tx.MarkSent(ctx, id, wamid); err != nil {
			return err
		}
		return tx.SetReengaged(ctx, cc.conv.ID, at)
	})
}
