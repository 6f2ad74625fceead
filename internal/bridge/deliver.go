package bridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

const (
	// mediaTimeout bounds a call that streams media.
	mediaTimeout = 10 * time.Minute
	// defaultReopenWindow is how long a solved ticket is reopened by a new
	// customer message when the ticket has no route to say otherwise.
	defaultReopenWindow = 72 * time.Hour
)

// DeliverInbound posts a conversation's pending customer messages to its
// helpdesk ticket, in order, opening or reopening the ticket as needed. It
// records each message's remote id as soon as it exists, so a retry resumes
// at the first message not yet posted.
func (b *Bridge) DeliverInbound(ctx context.Context, convID store.ConversationID) error {
	return b.drain(ctx, convID, store.DirIn, b.deliverOne)
}

// DeliverInboundQueued is DeliverInbound for a job queued at queuedAt, in
// the transaction that stored the customer message waking the conversation:
// it first waits out that message's settle window without holding the
// conversation, so that the rest of a burst, stored meanwhile, joins this
// job instead of queuing another that would find the conversation busy. A
// job queued long ago (a retry, a backlog) does not wait.
func (b *Bridge) DeliverInboundQueued(ctx context.Context, convID store.ConversationID, queuedAt time.Time) error {
	if wait := queuedWait(queuedAt, b.now(), b.settle); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return b.DeliverInbound(ctx, convID)
}

// queuedWait is how long a job queued at queuedAt waits before it claims
// its conversation: the rest of the settle window, never more than the
// window (a clock ahead of the database's), nothing for an old job.
func queuedWait(queuedAt, now time.Time, settle time.Duration) time.Duration {
	return max(min(queuedAt.Add(settle).Sub(now), settle), 0)
}

// errMediaGone reports that WhatsApp can no longer provide a message's media.
var errMediaGone = errors.New("media no longer available")

// deliverOne posts one pending message. A nil return means the message is
// done or failed for good (with its reason recorded); an error means the job
// should stop and be retried or snoozed.
func (b *Bridge) deliverOne(ctx context.Context, ic *convCtx, m store.Message) error {
	wm := inboundOf(m)
	if note, ok, err := b.noteOf(ctx, ic, m, wm); err != nil || ok {
		if err != nil {
			return err
		}
		return b.deliverNote(ctx, ic, m, note)
	}
	if wm.Type == whatsapp.TypeReaction && wm.Reaction != nil {
		return b.deliverReaction(ctx, ic, m, *wm.Reaction)
	}
	if isIdentityChange(wm) {
		done, err := b.deliverIdentityNote(ctx, ic, m, wm)
		if done || err != nil {
			return err
		}
		// No ticket yet: posted like any message, opening one.
	}
	var mediaErr error
	msg := connectors.Message{Body: b.withQuote(ctx, ic, wm, msgconv.Render(wm)), Key: m.WAMID, At: m.CreatedAt}
	if m.Author == store.AuthorCustomerAI {
		msg.Body = handledByAIPrefix + msg.Body
	}
	if m.WATimestamp != nil {
		msg.At = *m.WATimestamp
	}
	if arrivedLate(m.WATimestamp, ic.lastPosted) {
		msg.Body = msgconv.MarkLate(msg.Body, *m.WATimestamp, m.CreatedAt)
	}
	if wm.IsMedia() {
		msg.Attachments = []connectors.Attachment{mediaAttachment(ic.graph, wm, &mediaErr)}
	}
	err := b.postMessage(ctx, ic, m, msg, &mediaErr)
	var refused *attachmentRefusedError
	switch {
	case errors.Is(err, errMediaGone):
		// The file is gone for good: the agent still gets the message, with
		// a line saying what is missing, instead of nothing.
		msg.Body = msgconv.AppendLine(msg.Body, "[The "+wm.Type+" could not be fetched from WhatsApp ("+
			mediaErr.Error()+"). Ask the customer to send it again.]")
	case errors.As(err, &refused):
		// The helpdesk will not take the file: the text goes without it,
		// with a line naming the file and why, and a link to open it.
		expires := b.now().Add(MediaLinkTTL)
		link := b.mediaLinkURL(ic.account.ID, wm.Media.ID, expires)
		msg.Body = msgconv.AppendLine(msg.Body, msgconv.FileNotAttached(msg.Attachments[0].Filename,
			refused.reason(), link, expires))
	default:
		return err
	}
	msg.Attachments = nil
	mediaErr = nil
	return b.postMessage(ctx, ic, m, msg, &mediaErr)
}

// attachmentRefusedError is a helpdesk refusing a message's file rather
// than the message: too large (413) or of a type it does not take (415).
type attachmentRefusedError struct{ err *connectors.Error }

func (e *attachmentRefusedError) Error() string { return "attachment refused: " + e.err.Error() }

// reason says for the agent why the file was refused.
func (e *attachmentRefusedError) reason() string {
	why := "the helpdesk refused its type"
	if e.err.Status == http.StatusRequestEntityTooLarge {
		why = "it is larger than the helpdesk accepts"
	}
	if e.err.Message != "" {
		why += " (" + strings.TrimSuffix(e.err.Message, ".") + ")"
	}
	return why
}

// refusedAttachment reports a failed post of msg as its file being refused,
// when it is one; the download from Graph must have worked (mediaErr nil).
func refusedAttachment(msg connectors.Message, err, mediaErr error) error {
	var ce *connectors.Error
	if len(msg.Attachments) == 0 || mediaErr != nil || !errors.As(err, &ce) {
		return nil
	}
	if ce.Status == http.StatusRequestEntityTooLarge || ce.Status == http.StatusUnsupportedMediaType {
		return &attachmentRefusedError{err: ce}
	}
	return nil
}

// arrivedLate reports whether a customer message sent at sent reaches the
// helpdesk after one the customer sent later (posted at lastPosted, the
// newest timestamp posted in the conversation): it is posted at once, marked
// with its send time, rather than held or dropped. Equal timestamps (whole
// seconds) are not late, and a message without a timestamp never is.
func arrivedLate(sent, lastPosted *time.Time) bool {
	return sent != nil && !sent.IsZero() && lastPosted != nil && sent.Before(*lastPosted)
}

// inboundOf is a customer message as the intake decoded it. Rows stored
// before migration 005 hold only Meta's raw JSON, decoded here.
func inboundOf(m store.Message) whatsapp.Message {
	if m.Inbound != nil {
		return *m.Inbound
	}
	return whatsapp.DecodeMessage(m.InboundRaw)
}

// lookBeforePosting reports whether a message may already be on the ticket:
// an earlier attempt may have posted it before failing.
func lookBeforePosting(m store.Message) bool { return m.Attempts > 0 }

func (b *Bridge) postMessage(ctx context.Context, ic *convCtx, m store.Message, msg connectors.Message, mediaErr *error) error {
	ticket, err := b.activeTicket(ctx, ic)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return b.openTicket(ctx, ic, m, msg, nil, mediaErr)
	case err != nil:
		return err
	}
	var route *store.Route // only a solved ticket's reopen window needs its route
	if connectors.Status(ticket.Status) == connectors.StatusSolved {
		routes, _ := b.routesOf(ctx, ic)
		route = routeByID(routes, ticket.RouteID)
	}
	if needsNewTicket(ticket, route, b.now()) {
		return b.openTicket(ctx, ic, m, msg, &ticket, mediaErr)
	}

	conn, err := b.connFor(ctx, ic, ticket.ConnectionID)
	if err != nil {
		return err
	}
	if !conn.row.Enabled {
		return b.holdForDisabled(ctx, m, conn)
	}
	if f, ok := conn.c.(connectors.MessageFinder); ok && lookBeforePosting(m) {
		fctx, cancel := context.WithTimeout(ctx, b.timeout)
		id, found, err := f.FindMessage(fctx, ticket.RemoteID, ticket.RequesterID, msg)
		cancel()
		if err != nil {
			return b.classify(ctx, ic, m, conn, err, nil)
		}
		if found {
			return b.markPosted(ctx, ic, store.Posted{Message: m.ID, Ticket: ticket.ID, Connection: conn.row.ID, RemoteID: id})
		}
	}
	pctx, cancel := context.WithTimeout(ctx, b.postTimeout(msg))
	commentID, err := conn.c.AddMessage(pctx, ticket.RemoteID, ticket.RequesterID, msg)
	cancel()
	if errors.Is(err, connectors.ErrTicketClosed) || connectors.IsNotFound(err) {
		// Closed or deleted on the helpdesk side: follow up in a new ticket.
		return b.openTicket(ctx, ic, m, msg, &ticket, mediaErr)
	}
	if r := refusedAttachment(msg, err, *mediaErr); r != nil {
		return r
	}
	if err != nil {
		return b.classify(ctx, ic, m, conn, err, *mediaErr)
	}
	if ticket.Status == string(connectors.StatusSolved) {
		if err := b.store.SetTicketStatus(ctx, ticket.ID, string(connectors.StatusOpen)); err != nil {
			return err
		}
		ic.forgetTicket()
	}
	return b.markPosted(ctx, ic, store.Posted{Message: m.ID, Ticket: ticket.ID, Connection: conn.row.ID, RemoteID: commentID})
}

// needsNewTicket applies the reopen policy: a closed ticket, or one solved
// longer ago than the route's reopen window, gets a follow-up ticket.
func needsNewTicket(t store.Ticket, route *store.Route, now time.Time) bool {
	switch connectors.Status(t.Status) {
	case connectors.StatusClosed:
		return true
	case connectors.StatusSolved:
		window := defaultReopenWindow
		if route != nil {
			window = route.ReopenWindow
		}
		return t.ResolvedAt == nil || now.Sub(*t.ResolvedAt) > window
	}
	return false
}

// openTicket creates a ticket whose first comment is m, following up prev
// when there was one.
func (b *Bridge) openTicket(ctx context.Context, ic *convCtx, m store.Message, msg connectors.Message, prev *store.Ticket, mediaErr *error) error {
	routes, err := b.routesOf(ctx, ic)
	if err != nil {
		return err
	}
	route, conn, err := b.pickEnabledRoute(ctx, ic, routes, msg.Body)
	if err != nil {
		return err
	}
	if route == nil {
		// The routes were read when this drain began: a route added since
		// (and "Route held messages" releasing this very message into the
		// running drain) must not leave the message held with nothing left
		// to wake it. Read them again before holding.
		ic.haveRoutes = false
		if routes, err = b.routesOf(ctx, ic); err != nil {
			return err
		}
		if route, conn, err = b.pickEnabledRoute(ctx, ic, routes, msg.Body); err != nil {
			return err
		}
	}
	if route == nil {
		return b.holdUnrouted(ctx, ic, m)
	}
	if !conn.row.Enabled {
		return b.holdForDisabled(ctx, m, conn)
	}
	rctx, cancel := context.WithTimeout(ctx, b.timeout)
	requesterID, err := conn.c.EnsureRequester(rctx, requesterOf(ic.conv))
	cancel()
	if err != nil {
		return b.classify(ctx, ic, m, conn, err, nil)
	}
	who := ic.conv.ProfileName
	if ic.conv.WaID == "" {
		who = cmp.Or(who, ic.conv.Customer().Label()) // no phone to show: the username or BSUID
	}
	nt := connectors.NewTicket{
		RequesterID: requesterID,
		Subject:     msgconv.Subject(who, ic.conv.WaID, msg.Body),
		First:       msg,
		Tags:        route.Tags,
		ExternalID:  "wa:" + ic.account.PhoneNumberID + ":" + cmp.Or(ic.conv.WaID, ic.conv.UserID),
	}
	var prevID *store.TicketID
	if prev != nil && prev.ConnectionID == conn.row.ID {
		nt.PreviousTicketID = prev.RemoteID
		prevID = &prev.ID
	}
	cctx, cancel := context.WithTimeout(ctx, b.postTimeout(msg))
	t, firstComment, err := conn.c.CreateTicket(cctx, nt)
	cancel()
	if r := refusedAttachment(msg, err, *mediaErr); r != nil {
		return r
	}
	if err != nil {
		return b.classify(ctx, ic, m, conn, err, *mediaErr)
	}
	defer ic.forgetTicket() // a ticket is opened, or may be
	return b.store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockTicketKey(ctx, conn.row.ID, t.ID); err != nil {
			return err
		}
		row, err := tx.InsertTicket(ctx, store.NewTicket{
			ConversationID: ic.conv.ID, ConnectionID: conn.row.ID, RouteID: &route.ID, RemoteID: t.ID,
			RequesterID: requesterID, URL: t.URL, Status: string(t.Status), PreviousTicketID: prevID,
		})
		if err != nil {
			return err
		}
		if err := tx.MarkPosted(ctx, m.ID, row.ID, conn.row.ID, firstComment); err != nil {
			return err
		}
		if err := b.emitTicketLinked(ctx, tx, ic.account.ID, ic.conv.ID); err != nil {
			return err
		}
		return b.adoptParked(ctx, tx, conn.row, t.ID)
	})
}

// adoptParked stores the agent replies that arrived before their ticket was
// recorded, in the transaction that records it.
func (b *Bridge) adoptParked(ctx context.Context, tx *store.Tx, row store.Connection, remoteTicketID string) error {
	events, err := tx.TakeParkedEvents(ctx, row.ID, remoteTicketID)
	if err != nil || len(events) == 0 {
		return err
	}
	var res HelpdeskResult
	jobs, err := b.storeEvents(ctx, tx, row, events, &res)
	if err != nil {
		return err
	}
	return b.enqueue(ctx, tx, jobs)
}

// pickEnabledRoute is the first of a number's routes that matches the
// customer and their first message and leads to an enabled connection,
// with that connection. When every matching route leads to a disabled
// connection it returns the first of them (the message is held for it);
// when none matches, nil.
func (b *Bridge) pickEnabledRoute(ctx context.Context, ic *convCtx, routes []store.Route, firstBody string) (*store.Route, *connection, error) {
	var first *store.Route
	var firstConn *connection
	for i := range routes {
		r := &routes[i]
		if !routeMatches(r.Match, ic.conv.WaID, firstBody) {
			continue
		}
		conn, err := b.connFor(ctx, ic, r.ConnectionID)
		if err != nil {
			return nil, nil, err
		}
		if conn.row.Enabled {
			return r, conn, nil
		}
		if first == nil {
			first, firstConn = r, conn
		}
	}
	return first, firstConn, nil
}

// pickRoute is the first of a number's routes that matches the customer and
// their first message, or nil.
func pickRoute(routes []store.Route, waID, firstBody string) *store.Route {
	for i := range routes {
		if routeMatches(routes[i].Match, waID, firstBody) {
			return &routes[i]
		}
	}
	return nil
}

func routeMatches(m store.RouteMatch, waID, body string) bool {
	switch m.Kind {
	case "", "default":
		return true
	case "country":
		return strings.HasPrefix(waID, m.Value)
	case "keyword":
		return m.Value != "" && strings.Contains(strings.ToLower(body), strings.ToLower(m.Value))
	}
	return false
}

// routeByID is the route with the given id among routes, or nil.
func routeByID(routes []store.Route, id *store.RouteID) *store.Route {
	if id == nil {
		return nil
	}
	for i := range routes {
		if routes[i].ID == *id {
			return &routes[i]
		}
	}
	return nil
}

// mediaAttachment streams a WhatsApp media file into the helpdesk upload.
// A download failure is kept in *errp so it can be classified on its own.
func mediaAttachment(graph Graph, m whatsapp.Message, errp *error) connectors.Attachment {
	media := m.Media
	return connectors.Attachment{
		Filename: msgconv.AttachmentName(m.Type, m.ID, *media), ContentType: msgconv.AttachmentContentType(media.MimeType), Size: -1,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			rc, _, err := graph.DownloadMedia(ctx, media.ID)
			if err != nil {
				*errp = err
				return nil, err
			}
			return rc, nil
		},
	}
}

func (b *Bridge) postTimeout(m connectors.Message) time.Duration {
	if len(m.Attachments) > 0 {
		return mediaTimeout
	}
	return b.timeout
}

// reactionQuoteWords is how many words of the reacted message a reaction's
// note quotes.
const reactionQuoteWords = 8

// deliverReaction posts a customer's reaction as an internal note on the
// ticket of the message it reacts to, quoting that message's first words. It
// never opens or reopens a ticket: when the reacted message has no ticket
// (or its ticket takes nothing more), the note goes on the conversation's
// active ticket, and with no ticket at all the reaction is recorded on the
// message for the admin page.
func (b *Bridge) deliverReaction(ctx context.Context, ic *convCtx, m store.Message, r whatsapp.Reaction) error {
	quoted := ""
	var tickets []store.TicketID
	target, err := b.store.MessageByWAMID(ctx, ic.conv.ID, r.MessageID)
	switch {
	case err == nil:
		body := target.Body
		if target.Direction == "in" {
			body = msgconv.Render(inboundOf(target))
		}
		quoted = msgconv.FirstWords(body, reactionQuoteWords)
		if target.TicketID != nil {
			tickets = append(tickets, *target.TicketID)
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if active, err := b.activeTicket(ctx, ic); err == nil {
		tickets = append(tickets, active.ID)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	note := connectors.Note{Body: "[WhatsApp] " + msgconv.Reaction(r.Emoji, r.Removed, quoted), Key: m.WAMID}
	for _, id := range tickets {
		t, err := b.store.TicketByID(ctx, id)
		if err != nil {
			return err
		}
		conn, err := b.connFor(ctx, ic, t.ConnectionID)
		if err != nil {
			return err
		}
		if !conn.row.Enabled {
			return b.holdForDisabled(ctx, m, conn)
		}
		nctx, cancel := context.WithTimeout(ctx, b.timeout)
		noteID, err := conn.c.AddNote(nctx, t.RemoteID, note)
		cancel()
		switch {
		case err == nil:
			return b.markPosted(ctx, ic, store.Posted{Message: m.ID, Ticket: t.ID, Connection: conn.row.ID, RemoteID: noteID})
		case connectors.IsPermanent(err) || connectors.IsNotFound(err):
			continue // closed or deleted: try the active ticket
		}
		return b.helpdeskErr(ctx, conn, err)
	}
	b.log.Info("a reaction has no open ticket to go on; recorded only", "message", m.ID)
	return b.store.MarkState(ctx, m.ID, store.StateDone, store.Failure("",
		"Not posted: the reacted message's ticket is closed and the conversation has no open ticket ("+note.Body+")."))
}

// quoteWords is how many words of a quoted message a reply shows.
const quoteWords = 12

// quotedMarker is the line Render writes for a reply to an earlier message.
const quotedMarker = "[Reply to an earlier message]"

// withQuote replaces the marker of a customer's reply to an earlier message
// with that message's first words, when relaydesk has it; otherwise the
// marker stays.
func (b *Bridge) withQuote(ctx context.Context, ic *convCtx, wm whatsapp.Message, body string) string {
	if wm.Context == nil || wm.Context.ID == "" || !strings.Contains(body, quotedMarker) {
		return body
	}
	target, err := b.store.MessageByWAMID(ctx, ic.conv.ID, wm.Context.ID)
	if err != nil {
		return body // not found (or unreadable): the marker says as much as is known
	}
	quoted := target.Body
	if target.Direction == "in" {
		quoted = msgconv.Render(inboundOf(target))
	}
	words := msgconv.FirstWords(quoted, quoteWords)
	if words == "" {
		return body
	}
	who := "the customer's"
	if target.Direction == "out" {
		who = "our"
	}
	line := fmt.Sprintf("[Reply to %s message: %q]", who, words)
	if link := b.commentLink(ctx, ic, target); link != "" {
		line = fmt.Sprintf("[Reply to %s message: %q, %s]", who, words, link)
	}
	return strings.Replace(body, quotedMarker, line, 1)
}

// commentLink is the helpdesk's link to the comment a message became, where
// the helpdesk has links to comments (connectors.CommentLinker); "" when it
// has none or the message is on no ticket.
func (b *Bridge) commentLink(ctx context.Context, ic *convCtx, m store.Message) string {
	if m.RemoteID == "" || m.TicketID == nil || m.ConnectionID == nil {
		return ""
	}
	conn, err := b.connFor(ctx, ic, *m.ConnectionID)
	if err != nil {
		return ""
	}
	linker, ok := conn.c.(connectors.CommentLinker)
	if !ok {
		return ""
	}
	t, err := b.store.TicketByID(ctx, *m.TicketID)
	if err != nil {
		return ""
	}
	return linker.CommentURL(t.RemoteID, m.RemoteID)
}

// isIdentityChange reports whether m is a system message saying the
// customer's number or business-scoped user id changed.
func isIdentityChange(m whatsapp.Message) bool {
	return m.Type == whatsapp.TypeSystem && m.System != nil &&
		(m.System.Type == whatsapp.SystemUserChangedNumber || m.System.Type == whatsapp.SystemUserChangedUserID)
}

// deliverIdentityNote posts what changed about the customer's identity as
// an internal note on the conversation's active ticket (the conversation
// and ticket stay; the agent is told where replies go now). It reports
// false, nothing done, when there is no active ticket to take it.
func (b *Bridge) deliverIdentityNote(ctx context.Context, ic *convCtx, m store.Message, wm whatsapp.Message) (bool, error) {
	t, err := b.activeTicket(ctx, ic)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	conn, err := b.connFor(ctx, ic, t.ConnectionID)
	if err != nil {
		return false, err
	}
	if !conn.row.Enabled {
		return true, b.holdForDisabled(ctx, m, conn)
	}
	note := connectors.Note{Body: "[WhatsApp] " + msgconv.Render(wm), Key: m.WAMID}
	nctx, cancel := context.WithTimeout(ctx, b.timeout)
	noteID, err := conn.c.AddNote(nctx, t.RemoteID, note)
	cancel()
	switch {
	case err == nil:
		return true, b.markPosted(ctx, ic, store.Posted{Message: m.ID, Ticket: t.ID, Connection: conn.row.ID, RemoteID: noteID})
	case connectors.IsPermanent(err) || connectors.IsNotFound(err):
		return false, nil // closed or deleted: posted like a message, following up in a new ticket
	}
	return true, b.helpdeskErr(ctx, conn, err)
}

// requesterOf is the helpdesk requester of a conversation's customer: by
// phone when WhatsApp shares it, else by business-scoped user id (the
// connectors key such a requester on the BSUID as external id and name it
// by username or profile name).
func requesterOf(c store.Conversation) connectors.Requester {
	r := connectors.Requester{WaID: c.WaID, UserID: c.UserID, Username: c.Username, Name: c.ProfileName}
	if c.WaID != "" {
		r.Phone = "+" + c.WaID
	}
	return r
}
