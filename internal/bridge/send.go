package bridge

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Pair rate: WhatsApp lets a business send one user about one message every
// 6 seconds, with short bursts allowed (error 131056 otherwise).
const (
	pairRate  = 1.0 / 6
	pairBurst = 20
)

// SendOutbound sends a conversation's pending agent replies to WhatsApp in
// order, applying the 24-hour window, the number's send rate and Graph's
// error classes.
func (b *Bridge) SendOutbound(ctx context.Context, convID store.ConversationID) error {
	r := b.replies // on the replies' own connections (Opts.ReplyStore)
	return r.drain(ctx, convID, store.DirOut, r.sendOne)
}

// recipient is where replies go: the customer's new number after a change,
// else their number, else (a customer who hides their phone behind a
// username) their business-scoped user id, which the Graph client sends in
// "recipient" rather than "to". Meta recommends the phone number when
// known.
func recipient(c store.Conversation) string {
	return cmp.Or(c.ChangedToWaID, c.WaID, c.UserID)
}

// authTemplateToPhoneless reports whether a template of this category
// cannot go to to: authentication templates (one-tap, zero-tap,
// copy-code) need a phone number, WhatsApp refuses them to a BSUID
// (error 131062).
func authTemplateToPhoneless(category, to string) bool {
	return strings.EqualFold(category, "AUTHENTICATION") && whatsapp.IsBSUID(to)
}

// phonelessNote is the note for a message WhatsApp cannot take for a
// customer known only by their BSUID.
const phonelessNote = "This message was NOT sent to the customer: " + whatsapp.PhonelessReason

func (b *Bridge) sendOne(ctx context.Context, cc *convCtx, m store.Message) error {
	api, isAPI := apiMessageOf(m) // an application's media by link or template
	kind := whatsapp.TypeText     // agent replies and API texts
	if isAPI {
		kind = api.Type
	} else if r, ok := agentTemplate(m); ok {
		// A template may go outside the window.
		conn, attachments, held, err := b.replyParts(ctx, cc, &m)
		if err != nil || held {
			return err
		}
		return b.sendTemplateReply(ctx, cc, m, r, conn, attachments)
	}
	if needsWindow(kind) && !b.inWindow(cc.conv) {
		return b.outsideWindow(ctx, cc, m)
	}
	if isAPI {
		return b.sendAPIMessage(ctx, cc, m, api)
	}
	if m.Kind == KindReaction {
		return b.sendReaction(ctx, cc, m)
	}

	conn, attachments, held, err := b.replyParts(ctx, cc, &m)
	if err != nil || held {
		return err
	}
	if r, ok := agentTemplate(m); ok {
		return b.sendTemplateReply(ctx, cc, m, r, conn, attachments) // a thin webhook's body, known only now
	}

	b.beforeReply(ctx, cc, m) // read receipt and typing indicator, by the number's policy

	// Each attachment is one WhatsApp media message, then the text; parts
	// already accepted (recorded in sent_parts) are not sent again.
	to := recipient(cc.conv)
	var last string
	// A reply to a customer's comment quotes that message on WhatsApp
	// (context.message_id): its first part does.
	replyTo := m.ReplyTo
	for i, a := range attachments {
		if w, ok := m.SentParts[i]; ok {
			last = cmp.Or(w, last) // "" is a file not sent, with its note
			continue
		}
		if err := b.pace(ctx, cc.account, to); err != nil {
			return err
		}
		wamid, note, err := b.sendAttachment(ctx, cc.graph, conn, to, a, replyTo)
		if why := fileRefused(err); why != "" {
			// WhatsApp will not take this file: the rest of the reply goes,
			// and a note tells the agent which file did not and why.
			cc.answered = true
			if err := b.skipPart(ctx, m, i, a.Filename, why); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return b.graphErr(ctx, cc, m, err)
		}
		cc.answered = true
		if err := b.recordPart(ctx, m, i, wamid, note); err != nil {
			return err
		}
		last = wamid
	}
	if len(m.SentParts) > 0 || last != "" {
		replyTo = "" // a part already carried the quote
	}
	if strings.TrimSpace(m.Body) != "" {
		if err := b.pace(ctx, cc.account, to); err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, b.timeout)
		wamid, err := cc.graph.SendText(sctx, to, msgconv.Truncate(m.Body, 4096), true, replyTo)
		cancel()
		if err != nil {
			return b.graphErr(ctx, cc, m, err)
		}
		cc.answered = true
		last = wamid
	}
	if last == "" {
		return b.store.MarkState(ctx, m.ID, store.StateDone, nil) // nothing to send (empty comment)
	}
	if err := b.recordSent(ctx, func(ctx context.Context) error { return b.store.MarkSent(ctx, m.ID, last) }); err != nil {
		return err
	}
	return b.afterReply(ctx, cc, m) // a reply takes the conversation back from Meta's AI
}

// attachmentsOf returns a reply's attachments. Thin webhooks (no
// attachments) are completed from the helpdesk first, updating m's body;
// until attachments are known, every attempt asks again.
// replyParts returns a reply's helpdesk connection (nil for a message
// without one) and its attachments, fetching the comment when the webhook
// did not carry them. A reply whose connection is disabled is held instead
// (held true).
func (b *Bridge) replyParts(ctx context.Context, cc *convCtx, m *store.Message) (*connection, []connectors.RemoteAttachment, bool, error) {
	var conn *connection
	if m.ConnectionID != nil {
		var err error
		if conn, err = b.connFor(ctx, cc, *m.ConnectionID); err != nil {
			return nil, nil, false, err
		}
		if !conn.row.Enabled {
			return nil, nil, true, b.holdForDisabled(ctx, *m, conn)
		}
	}
	attachments, err := b.attachmentsOf(ctx, conn, m)
	return conn, attachments, false, err
}

func (b *Bridge) attachmentsOf(ctx context.Context, conn *connection, m *store.Message) ([]connectors.RemoteAttachment, error) {
	attachments := m.Attachments
	if conn == nil || m.RemoteID == "" || len(attachments) != 0 || m.TicketID == nil {
		return attachments, nil
	}
	hy, ok := conn.c.(connectors.EventHydrator)
	if !ok {
		return attachments, nil
	}
	t, err := b.store.TicketByID(ctx, *m.TicketID)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, b.timeout)
	e, err := hy.HydrateEvent(hctx, connectors.Event{Type: connectors.EventComment, TicketID: t.RemoteID,
		CommentID: m.RemoteID, Body: m.Body, Public: true, Attachments: attachments})
	cancel()
	if err != nil {
		return nil, b.helpdeskErr(ctx, conn, err)
	}
	if e.Body != "" {
		m.Body = e.Body
	}
	if err := b.store.SetAttachments(ctx, m.ID, m.Body, e.Attachments); err != nil {
		return nil, err
	}
	return e.Attachments, nil
}

// pace takes a send token from the number's bucket (its throughput, shared
// by every replica through PostgreSQL) and from the recipient's pair-rate
// bucket; when either is empty the job snoozes until a token is due.
func (b *Bridge) pace(ctx context.Context, acc store.Account, to string) error {
	rate := float64(acc.EffectiveSendRate()) // a coexistence number: at most 20 per second
	wait, err := b.store.TakeToken(ctx, "wa:"+acc.PhoneNumberID, rate, rate)
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

// sendAttachment streams a helpdesk attachment into a Graph upload, by
// media id (never by link: links go through Meta's fetch proxy), converted
// first when WhatsApp will not take it as it is (mediaconv), and sends it,
// quoting replyTo when set. note names a conversion for the agent.
func (b *Bridge) sendAttachment(ctx context.Context, graph Graph, conn *connection, to string, a connectors.RemoteAttachment, replyTo string) (wamid, note string, err error) {
	ctx, cancel := context.WithTimeout(ctx, mediaTimeout)
	defer cancel()
	rc, ctype, err := b.openRemoteAttachment(ctx, conn, a)
	if err != nil {
		return "", "", err
	}
	out, err := b.media.Prepare(ctx, a.Filename, ctype, a.Size, rc) // closes rc, or hands it on in out.Body
	if err != nil {
		return "", "", err
	}
	defer out.Body.Close()
	upload := graph.UploadMedia
	if out.Document {
		upload = graph.UploadDocument
	}
	id, err := upload(ctx, out.Filename, out.ContentType, out.Size, out.Body)
	if err != nil {
		return "", "", err
	}
	ref := whatsapp.MediaRef{ID: id}
	if out.Kind == whatsapp.TypeDocument {
		ref.Filename = out.Filename
	}
	wamid, err = graph.SendMedia(ctx, to, out.Kind, ref, replyTo)
	return wamid, out.Note, err
}

// sendReaction sends an agent's reaction to the message it reacts to (an
// empty emoji takes a reaction back). A reaction to a comment that is not
// a WhatsApp message of the conversation is not sent; a note says so.
func (b *Bridge) sendReaction(ctx context.Context, cc *convCtx, m store.Message) error {
	if m.ReplyTo == "" {
		return b.failWithNote(ctx, m, "reaction_target",
			"Your reaction was NOT sent to the customer: the message you reacted to is not one of this WhatsApp chat "+
				"(only the customer's messages and the replies relaydesk sent can be reacted to).")
	}
	to := recipient(cc.conv)
	if err := b.pace(ctx, cc.account, to); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, b.timeout)
	wamid, err := cc.graph.SendReaction(sctx, to, m.ReplyTo, strings.TrimSpace(m.Body))
	cancel()
	if err != nil {
		return b.graphErr(ctx, cc, m, err)
	}
	cc.answered = true
	return b.recordSent(ctx, func(ctx context.Context) error { return b.store.MarkSent(ctx, m.ID, wamid) })
}

// openRemoteAttachment opens a helpdesk attachment through the connector
// when it fetches attachments itself, else by its URL; the content type is
// the fetched one, or the attachment's own when the fetch names none.
func (b *Bridge) openRemoteAttachment(ctx context.Context, conn *connection, a connectors.RemoteAttachment) (io.ReadCloser, string, error) {
	var fetcher connectors.AttachmentFetcher
	if conn != nil {
		fetcher, _ = conn.c.(connectors.AttachmentFetcher)
	}
	if fetcher == nil {
		rc, err := b.openAttachmentURL(ctx, conn, a.URL)
		return rc, a.ContentType, err
	}
	rc, ctype, err := fetcher.OpenAttachment(ctx, a)
	if ctype == "" {
		ctype = a.ContentType
	}
	return rc, ctype, err
}

// sendAPIMessage sends an API message other than text (media by link, a
// template); text goes the agent replies' way. The caller has applied the
// window rule.
func (b *Bridge) sendAPIMessage(ctx context.Context, cc *convCtx, m store.Message, p *store.APISend) error {
	to := recipient(cc.conv)
	if err := b.pace(ctx, cc.account, to); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	var wamid string
	var err error
	if p.Type == whatsapp.TypeTemplate {
		var t APITemplate
		if err := json.Unmarshal(p.Template, &t); err != nil {
			return b.store.MarkState(ctx, m.ID, store.StateFailed, store.Failure("", "unreadable template: "+err.Error()))
		}
		if whatsapp.IsBSUID(to) {
			ct, err := b.store.TemplateOf(ctx, cc.account.ID, t.Name, t.Language)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err == nil && authTemplateToPhoneless(ct.Category, to) {
				cc.answered = true
				return b.failWithNote(ctx, m, "phoneless", phonelessNote)
			}
		}
		wamid, err = cc.graph.SendTemplate(sctx, to, t.wire())
	} else {
		wamid, err = cc.graph.SendMedia(sctx, to, p.Type, whatsapp.MediaRef{Link: p.Link, Caption: p.Caption, Filename: p.Filename}, "")
	}
	if err != nil {
		return b.graphErr(ctx, cc, m, err)
	}
	cc.answered = true
	return b.recordSent(ctx, func(ctx context.Context) error { return b.store.MarkSent(ctx, m.ID, wamid) })
}

// apiMessageOf reports whether m is an API send the agent-reply path does
// not handle (media by link, template).
func apiMessageOf(m store.Message) (*store.APISend, bool) {
	if m.Direction != "out" || !strings.HasPrefix(m.Author, "app:") || m.APISend == nil {
		return nil, false
	}
	return m.APISend, m.APISend.Type != whatsapp.TypeText
}

// fileRefused says why WhatsApp will not take an agent's file (its type, its
// size, Graph refusing the upload, a URL relaydesk must not fetch), or ""
// when err is not about the file itself.
func fileRefused(err error) string {
	var ae *whatsapp.APIError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, whatsapp.ErrUnsupportedMediaType):
		return "WhatsApp does not take files of this type (" + strings.TrimPrefix(err.Error(), "whatsapp: unsupported media type: ") + ")"
	case errors.Is(err, whatsapp.ErrMediaTooLarge):
		return "it is larger than WhatsApp accepts (" + strings.TrimPrefix(err.Error(), "whatsapp: media too large: ") + ")"
	case errors.As(err, &ae) && ae.Code == 131053:
		return ae.PlainReason()
	case errors.Is(err, errAttachmentURL):
		return "relaydesk may not fetch it from where the helpdesk keeps it (" + err.Error() + ")"
	}
	return ""
}

// recordPart records an attachment WhatsApp accepted and, in the same
// transaction, queues the note naming its conversion (if any).
func (b *Bridge) recordPart(ctx context.Context, m store.Message, i int, wamid, note string) error {
	return b.recordSent(ctx, func(ctx context.Context) error {
		if note == "" {
			return b.store.RecordPart(ctx, m.ID, i, wamid)
		}
		return b.store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.RecordPart(ctx, m.ID, i, wamid); err != nil {
				return err
			}
			return b.enqueueNote(ctx, tx, m, msgconv.FileConverted(note), "conv-"+strconv.Itoa(i))
		})
	})
}

// recordPatience is how long recordSent keeps trying.
const recordPatience = 15 * time.Second

// recordSent runs record, which writes down what WhatsApp just accepted,
// until it succeeds, fails for a reason a retry cannot cure, or
// recordPatience has passed. The Cloud API has no idempotency key: a send
// accepted but not recorded is sent again when the job is retried, so a
// database that blinks (a restart, a dropped connection, a failover) must
// not cost the record. The job's cancellation (a shutdown) does not stop
// it either; only the process dying does.
func (b *Bridge) recordSent(ctx context.Context, record func(context.Context) error) error {
	ctx = context.WithoutCancel(ctx)
	start, wait := time.Now(), 50*time.Millisecond
	for {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := record(rctx)
		cancel()
		if err == nil || !retriableRecord(err) || time.Since(start) > recordPatience {
			return err
		}
		b.log.Warn("could not record a message WhatsApp accepted; trying again so it is not sent twice", "err", err)
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// retriableRecord reports whether a failed record may succeed when tried
// again: not when the row is gone or PostgreSQL refused the values.
func retriableRecord(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "23") || store.IsRefusedValue(err)) {
		return false
	}
	return !errors.Is(err, store.ErrNotFound)
}

// skipPart records an attachment of a reply as not sent (an empty part) and
// queues the note naming it, in one transaction: a retry neither sends it
// nor notes it again.
func (b *Bridge) skipPart(ctx context.Context, m store.Message, i int, filename, why string) error {
	b.log.Warn("WhatsApp refused a reply's attachment; sending the rest", "message", m.ID, "part", i, "reason", why)
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.RecordPart(ctx, m.ID, i, ""); err != nil {
			return err
		}
		return b.enqueueNote(ctx, tx, m, msgconv.FileNotSent(filename, why), "file-"+strconv.Itoa(i))
	})
}
