package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Window is WhatsApp's customer service window: free-form messages may be
// sent only this long after the customer's last message.
const Window = 24 * time.Hour

// SendOutboundArgs asks for a conversation's pending agent replies to be
// sent to WhatsApp, in order.
type SendOutboundArgs struct {
	ConversationID int64 `json:"conversation_id"`
}

// Kind is the job kind.
func (SendOutboundArgs) Kind() string { return "send_outbound" }

// AddNoteArgs asks for an internal note on a ticket (why a reply was not
// delivered, a WhatsApp failure...). A job of its own, so the note survives
// a helpdesk outage.
type AddNoteArgs struct {
	TicketID int64  `json:"ticket_id"`
	Body     string `json:"body"`
	Key      string `json:"key"`
}

// Kind is the job kind.
func (AddNoteArgs) Kind() string { return "add_note" }

// Helpdesk webhook rejection reasons.
const (
	RejectUnknownConnection = "unknown_connection"
	RejectUnauthorized      = "unauthorized"
)

// HelpdeskResult describes an accepted helpdesk webhook.
type HelpdeskResult struct {
	Kind     string
	Replies  int // new agent replies stored and queued
	Statuses int
	Ignored  int // notes, customer comments (including relaydesk's own), redeliveries, unknown tickets
}

// HandleHelpdeskWebhook authenticates a helpdesk webhook through its
// connector and stores each new agent reply, in the transaction that
// enqueues its send job. Private notes and comments relaydesk wrote itself
// are never sent.
func (b *Bridge) HandleHelpdeskWebhook(ctx context.Context, publicID string, h http.Header, body []byte) (HelpdeskResult, error) {
	var res HelpdeskResult
	row, err := b.store.ConnectionByPublicID(ctx, b.store.Pool(), publicID)
	if errors.Is(err, store.ErrNotFound) {
		return res, &RejectError{RejectUnknownConnection, err}
	}
	if err != nil {
		return res, err
	}
	res.Kind = row.Kind
	conn, err := b.connection(ctx, row.ID)
	if err != nil {
		return res, err
	}
	secret, err := b.store.WebhookSecret(row)
	if err != nil {
		return res, err
	}
	events, err := conn.c.ParseWebhook(h, body, secret, b.now())
	switch {
	case errors.Is(err, connectors.ErrUnauthorized):
		return res, &RejectError{RejectUnauthorized, err}
	case errors.Is(err, connectors.ErrMalformed):
		return res, &RejectError{RejectMalformed, err}
	case err != nil:
		return res, &RejectError{RejectMalformed, err}
	}
	err = b.store.InTx(ctx, func(tx pgx.Tx) error {
		res = HelpdeskResult{Kind: row.Kind}
		jobs, err := b.storeEvents(ctx, tx, row, events, &res)
		if err != nil {
			return err
		}
		outcome := OutcomeNew
		if res.Replies == 0 && res.Statuses == 0 {
			outcome = OutcomeDuplicate
		}
		if _, err := b.store.InsertWebhookEvent(ctx, tx, store.WebhookEvent{
			Source: row.Kind, Outcome: outcome, Body: body,
			Summary: map[string]any{"connection": row.Name, "replies": res.Replies, "statuses": res.Statuses, "ignored": res.Ignored},
		}); err != nil {
			return err
		}
		if err := b.store.TouchWebhook(ctx, tx, row.ID); err != nil {
			return err
		}
		if len(jobs) > 0 {
			if _, err := b.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
				return fmt.Errorf("enqueue: %w", err)
			}
		}
		return nil
	})
	return res, err
}

func (b *Bridge) storeEvents(ctx context.Context, tx pgx.Tx, row store.Connection, events []connectors.Event, res *HelpdeskResult) ([]river.InsertManyParams, error) {
	var jobs []river.InsertManyParams
	for _, e := range events {
		t, err := b.store.TicketByRemoteID(ctx, tx, row.ID, e.TicketID)
		if errors.Is(err, store.ErrNotFound) && e.IsAgentReply() {
			// Not (yet) a ticket of ours: an agent may have answered before
			// the job that created the ticket recorded it. Under the
			// ticket's lock, look again, and park the reply until the
			// ticket is recorded; it expires if the ticket never is.
			if err := b.store.LockTicketKey(ctx, tx, row.ID, e.TicketID); err != nil {
				return nil, err
			}
			t, err = b.store.TicketByRemoteID(ctx, tx, row.ID, e.TicketID)
			if errors.Is(err, store.ErrNotFound) {
				if err := b.store.ParkEvent(ctx, tx, row.ID, e.TicketID, e); err != nil {
					return nil, err
				}
				res.Ignored++
				continue
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			res.Ignored++ // a ticket relaydesk did not open
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case e.Type == connectors.EventTicketStatus && e.Status.Valid():
			if err := b.store.SetTicketStatus(ctx, tx, t.ID, string(e.Status)); err != nil {
				return nil, err
			}
			res.Statuses++
		case e.IsAgentReply() && e.CommentID != "":
			media, err := json.Marshal(e.Attachments)
			if err != nil {
				return nil, err
			}
			if len(e.Attachments) == 0 {
				media = nil
			}
			id, inserted, err := b.store.InsertOutbound(ctx, tx, store.Outbound{
				ConversationID: t.ConversationID, ConnectionID: &row.ID, TicketID: &t.ID, RemoteID: e.CommentID,
				Kind: "text", Body: e.Body, Media: media, Author: "agent:" + e.AuthorID,
			})
			if err != nil {
				return nil, err
			}
			if !inserted {
				res.Ignored++ // a redelivery, or a comment relaydesk posted itself
				continue
			}
			b.log.Debug("agent reply stored", "message", id, "ticket", t.RemoteID)
			res.Replies++
			queue, err := b.store.MarkQueued(ctx, tx, t.ConversationID, store.DirOut)
			if err != nil {
				return nil, err
			}
			if queue {
				jobs = append(jobs, river.InsertManyParams{Args: SendOutboundArgs{ConversationID: t.ConversationID}})
			}
		default:
			res.Ignored++
		}
	}
	return jobs, nil
}

// SendOutbound sends a conversation's pending agent replies to WhatsApp in
// order, applying the 24-hour window, the number's send rate and Graph's
// error classes.
func (b *Bridge) SendOutbound(ctx context.Context, convID int64) error {
	return b.drain(ctx, convID, store.DirOut, b.sendOne)
}

// recipient is where replies go: the customer's new number after a change.
func recipient(c store.Conversation) string {
	if c.ChangedToWaID != "" {
		return c.ChangedToWaID
	}
	return c.WaID
}

func (b *Bridge) sendOne(ctx context.Context, cc *convCtx, m store.Message) error {
	if p, ok := apiMessageOf(m); ok {
		return b.sendAPIMessage(ctx, cc, m, p) // an application's media by link or template
	}
	conv, acc, graph := cc.conv, cc.account, cc.graph
	inWindow := conv.LastInboundAt != nil && b.now().Sub(*conv.LastInboundAt) < Window
	if !inWindow {
		return b.outsideWindow(ctx, cc, m)
	}

	var conn *connection
	if m.ConnectionID != nil {
		var err error
		if conn, err = b.connFor(ctx, cc, *m.ConnectionID); err != nil {
			return err
		}
	}
	// Thin webhooks (no attachments) are completed from the helpdesk first;
	// until attachments are known, every attempt asks again.
	attachments := remoteAttachments(m.Media)
	if conn != nil && m.RemoteID != "" && len(m.Media) == 0 {
		if hy, ok := conn.c.(connectors.EventHydrator); ok && m.TicketID != nil {
			t, err := b.store.TicketByID(ctx, b.store.Pool(), *m.TicketID)
			if err != nil {
				return err
			}
			hctx, cancel := context.WithTimeout(ctx, b.timeout)
			e, err := hy.HydrateEvent(hctx, connectors.Event{Type: connectors.EventComment, TicketID: t.RemoteID,
				CommentID: m.RemoteID, Body: m.Body, Public: true, Attachments: attachments})
			cancel()
			if err != nil {
				return b.helpdeskErr(ctx, conn, err)
			}
			attachments = e.Attachments
			media, _ := json.Marshal(e.Attachments)
			if len(e.Attachments) == 0 {
				media = nil
			}
			if err := b.store.SetMedia(ctx, m.ID, coalesce(e.Body, m.Body), media); err != nil {
				return err
			}
			m.Body = coalesce(e.Body, m.Body)
		}
	}

	// Each attachment is one WhatsApp media message, then the text; parts
	// already accepted (recorded in payload.parts) are not sent again.
	done := sentParts(m.Payload)
	to := recipient(conv)
	var last string
	for i, a := range attachments {
		if w, ok := done[strconv.Itoa(i)]; ok {
			last = w
			continue
		}
		if err := b.pace(ctx, acc, to); err != nil {
			return err
		}
		wamid, err := b.sendAttachment(ctx, graph, conn, to, a)
		if err != nil {
			return b.graphErr(ctx, acc, m, err)
		}
		if err := b.store.RecordPart(ctx, m.ID, i, wamid); err != nil {
			return err
		}
		last = wamid
	}
	if strings.TrimSpace(m.Body) != "" {
		if err := b.pace(ctx, acc, to); err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, b.timeout)
		wamid, err := graph.SendText(sctx, to, truncate(m.Body, 4096), true, "")
		cancel()
		if err != nil {
			return b.graphErr(ctx, acc, m, err)
		}
		last = wamid
	}
	if last == "" {
		return b.store.MarkState(ctx, m.ID, store.StateDone, nil) // nothing to send (empty comment)
	}
	return b.store.MarkSent(ctx, m.ID, last)
}

// Pair rate: WhatsApp lets a business send one user about one message every
// 6 seconds, with short bursts allowed (error 131056 otherwise).
const (
	pairRate  = 1.0 / 6
	pairBurst = 20
)

// pace takes a send token from the number's bucket (its throughput, shared
// by every replica through PostgreSQL) and from the recipient's pair-rate
// bucket; when either is empty the job snoozes until a token is due.
func (b *Bridge) pace(ctx context.Context, acc store.Account, to string) error {
	wait, err := b.store.TakeToken(ctx, "wa:"+acc.PhoneNumberID, float64(acc.SendRate), float64(acc.SendRate))
	if err != nil {
		return err
	}
	if wait > 0 {
		return b.snooze(wait)
	}
	if wait, err = b.store.TakeToken(ctx, "pair:"+acc.PhoneNumberID+":"+to, pairRate, pairBurst); err != nil {
		return err
	}
	if wait > 0 {
		return b.snooze(wait)
	}
	return nil
}

// outsideWindow applies the 24-hour rule: send the route's re-engagement
// template (once) and hold the reply until the customer writes, or tell the
// agent why it was not sent.
func (b *Bridge) outsideWindow(ctx context.Context, cc *convCtx, m store.Message) error {
	conv, graph := cc.conv, cc.graph
	var tpl *store.Template
	if m.TicketID != nil {
		if t, err := b.store.TicketByID(ctx, b.store.Pool(), *m.TicketID); err == nil && t.RouteID != nil {
			routes, err := b.routesOf(ctx, cc)
			if err != nil {
				return err
			}
			for _, r := range routes {
				if r.ID == *t.RouteID {
					tpl = r.ReengagementTemplate
				}
			}
		}
	}
	if tpl == nil {
		return b.failWithNote(ctx, m, "not_sent_window",
			"This reply was NOT sent to the customer on WhatsApp: the customer's last message is more than 24 hours old, "+
				"and WhatsApp only allows approved templates after that. No re-engagement template is configured for this route. "+
				"Ask an admin to set one in relaydesk, or wait until the customer writes again.")
	}
	already := conv.ReengagedAt != nil && (conv.LastInboundAt == nil || conv.ReengagedAt.After(*conv.LastInboundAt))
	if !already {
		sctx, cancel := context.WithTimeout(ctx, b.timeout)
		_, err := graph.SendTemplate(sctx, recipient(conv), whatsapp.Template{Name: tpl.Name, Language: tpl.Language})
		cancel()
		if err != nil {
			return b.graphErr(ctx, cc.account, m, err)
		}
		now := b.now()
		if err := b.store.SetReengaged(ctx, conv.ID, now); err != nil {
			return err
		}
		cc.conv.ReengagedAt = &now // later replies of this drain are held without a second template
	}
	return b.holdWithNote(ctx, m, fmt.Sprintf(
		"The customer's last message is more than 24 hours old, so WhatsApp does not allow this reply yet. "+
			"relaydesk sent the re-engagement template %q; your reply is held and will be delivered automatically "+
			"as soon as the customer answers.", tpl.Name))
}

func (b *Bridge) holdWithNote(ctx context.Context, m store.Message, note string) error {
	return b.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := b.store.MarkStateTx(ctx, tx, m.ID, store.StateWaitingWindow, map[string]string{"reason": note}); err != nil {
			return err
		}
		return b.enqueueNote(ctx, tx, m, note, "held")
	})
}

// failWithNote marks an outbound message failed and queues a note telling
// the agent why, in one transaction.
func (b *Bridge) failWithNote(ctx context.Context, m store.Message, code, note string) error {
	return b.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := b.store.MarkStateTx(ctx, tx, m.ID, store.StateFailed, map[string]string{"code": code, "reason": note}); err != nil {
			return err
		}
		return b.enqueueNote(ctx, tx, m, note, code)
	})
}

func (b *Bridge) enqueueNote(ctx context.Context, tx pgx.Tx, m store.Message, note, key string) error {
	if m.TicketID == nil {
		return nil // an API send without a ticket: the admin page shows the reason
	}
	_, err := b.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: AddNoteArgs{
		TicketID: *m.TicketID, Body: "[relaydesk] " + note, Key: fmt.Sprintf("msg-%d-%s", m.ID, key)}}})
	return err
}

// graphErr maps a Graph error to the job's outcome.
func (b *Bridge) graphErr(ctx context.Context, acc store.Account, m store.Message, err error) error {
	cls, wait := whatsapp.Classify(err)
	switch cls {
	case whatsapp.ClassWait:
		return b.snooze(max(wait, time.Second))
	case whatsapp.ClassAuth:
		_ = b.store.SetAccountHealth(ctx, b.store.Pool(), acc.ID, "token_expired",
			"Graph refused the access token; replace it in the admin page")
		return err
	case whatsapp.ClassFinal:
		reason := err.Error()
		var ae *whatsapp.APIError
		if errors.As(err, &ae) {
			reason = fmt.Sprintf("%s (WhatsApp error %d)", ae.PlainReason(), ae.Code)
		}
		return b.failWithNote(ctx, m, "whatsapp_refused", "This reply was NOT delivered to the customer: "+reason)
	}
	return err
}

func (b *Bridge) helpdeskErr(ctx context.Context, conn *connection, err error) error {
	if wait, ok := connectors.IsRateLimited(err); ok {
		return b.snooze(max(wait, time.Second))
	}
	if connectors.IsAuth(err) {
		_ = b.store.SetConnectionHealth(ctx, b.store.Pool(), conn.row.ID, "auth_failed", err.Error())
	}
	return err
}

// sendAttachment streams a helpdesk attachment into a Graph upload and sends it.
func (b *Bridge) sendAttachment(ctx context.Context, graph *whatsapp.Client, conn *connection, to string, a connectors.RemoteAttachment) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, mediaTimeout)
	defer cancel()
	var rc io.ReadCloser
	ctype := a.ContentType
	var fetcher connectors.AttachmentFetcher
	if conn != nil {
		fetcher, _ = conn.c.(connectors.AttachmentFetcher)
	}
	if fetcher != nil {
		var err error
		if rc, ctype, err = fetcher.OpenAttachment(ctx, a); err != nil {
			return "", err
		}
	} else {
		var err error
		if rc, err = b.openAttachmentURL(ctx, conn, a.URL); err != nil {
			return "", err
		}
	}
	defer rc.Close()
	if ctype == "" {
		ctype = a.ContentType
	}
	id, err := graph.UploadMedia(ctx, a.Filename, ctype, a.Size, rc)
	if err != nil {
		return "", err
	}
	kind := mediaKind(ctype)
	ref := whatsapp.MediaRef{ID: id}
	if kind == "document" {
		ref.Filename = a.Filename
	}
	return graph.SendMedia(ctx, to, kind, ref, "")
}

func mediaKind(ctype string) string {
	switch {
	case strings.HasPrefix(ctype, "image/webp"):
		return "sticker"
	case strings.HasPrefix(ctype, "image/"):
		return "image"
	case strings.HasPrefix(ctype, "video/"):
		return "video"
	case strings.HasPrefix(ctype, "audio/"):
		return "audio"
	}
	return "document"
}

func remoteAttachments(media json.RawMessage) []connectors.RemoteAttachment {
	var out []connectors.RemoteAttachment
	if len(media) > 0 {
		_ = json.Unmarshal(media, &out)
	}
	return out
}

func sentParts(payload json.RawMessage) map[string]string {
	var p struct {
		Parts map[string]string `json:"parts"`
	}
	if len(payload) > 0 {
		_ = json.Unmarshal(payload, &p)
	}
	return p.Parts
}

func coalesce(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// AddNote posts an internal note on a ticket (the add_note job).
func (b *Bridge) AddNote(ctx context.Context, a AddNoteArgs) error {
	t, err := b.store.TicketByID(ctx, b.store.Pool(), a.TicketID)
	if err != nil {
		return err
	}
	conn, err := b.connection(ctx, t.ConnectionID)
	if err != nil {
		return err
	}
	nctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	if _, err := conn.c.AddNote(nctx, t.RemoteID, connectors.Note{Body: a.Body, Key: a.Key}); err != nil {
		if connectors.IsPermanent(err) || connectors.IsNotFound(err) {
			b.log.Warn("helpdesk refused an internal note; dropping it", "ticket", t.RemoteID, "err", err)
			return nil
		}
		return b.helpdeskErr(ctx, conn, err)
	}
	return nil
}

// ReportFailure turns a WhatsApp "failed" status of an outbound message into
// an internal note on its ticket.
func (b *Bridge) ReportFailure(ctx context.Context, messageID int64) error {
	m, err := b.store.MessageByID(ctx, b.store.Pool(), messageID)
	if err != nil {
		return err
	}
	if m.TicketID == nil {
		return nil
	}
	var errs []whatsapp.Error
	_ = json.Unmarshal(m.Error, &errs)
	reason := "WhatsApp reported a delivery failure."
	if len(errs) > 0 {
		reason = fmt.Sprintf("%s (WhatsApp error %d)", whatsapp.PlainReason(errs[0].Code), errs[0].Code)
	}
	excerpt := truncate(strings.TrimSpace(m.Body), 80)
	return b.AddNote(ctx, AddNoteArgs{TicketID: *m.TicketID, Key: fmt.Sprintf("msg-%d-failed", m.ID),
		Body: fmt.Sprintf("[relaydesk] The reply %q was not delivered to the customer: %s", excerpt, reason)})
}

// GiveUp is called after a job's last attempt: the conversation's first
// pending message is marked failed with the last error, so it is visible and
// can be retried from the admin page, and the job ends.
func (b *Bridge) GiveUp(ctx context.Context, convID int64, direction string, cause error) error {
	m, err := b.store.NextPending(ctx, convID, direction)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	note := "relaydesk gave up after repeated failures: " + cause.Error()
	if direction == "out" {
		return b.failWithNote(ctx, m, "gave_up", "This reply was NOT delivered to the customer: "+note)
	}
	return b.store.MarkState(ctx, m.ID, store.StateFailed, map[string]string{"reason": note})
}
