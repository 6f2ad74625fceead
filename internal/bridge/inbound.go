package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

const (
	// lease is how long a claimed conversation stays claimed without a
	// heartbeat; after a crash, the conversation is free again this soon.
	lease = 20 * time.Second
	// heartbeat renews the lease while a worker runs.
	heartbeat = 5 * time.Second
	// busySnooze is how long a job waits when another worker holds the
	// conversation.
	busySnooze = 2 * time.Second
	// mediaTimeout bounds a call that streams media.
	mediaTimeout = 10 * time.Minute
)

// claim takes a conversation's lease for one direction and keeps it alive
// until release is called.
func (b *Bridge) claim(ctx context.Context, convID int64, dir store.Direction) (release func(), err error) {
	ok, err := b.store.ClaimConversation(ctx, convID, dir, lease)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, b.snooze(busySnooze)
	}
	hctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if err := b.store.ExtendLease(hctx, convID, dir, lease); err != nil && hctx.Err() == nil {
					b.log.Warn("could not extend conversation lease", "conversation", convID, "err", err)
				}
			}
		}
	}()
	return func() {
		stop()
		<-done
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.store.ReleaseConversation(rctx, convID, dir); err != nil {
			b.log.Warn("could not release conversation lease (it expires by itself)", "conversation", convID, "err", err)
		}
	}, nil
}

// convCtx is what working on one conversation needs.
type convCtx struct {
	conv       store.Conversation
	account    store.Account
	graph      *whatsapp.Client
	conns      map[int64]*connection // built once per drain, not once per message
	routes     []store.Route         // the number's routes, read once per drain
	haveRoutes bool
}

// routesOf returns the number's routes, read once per drain.
func (b *Bridge) routesOf(ctx context.Context, cc *convCtx) ([]store.Route, error) {
	if !cc.haveRoutes {
		routes, err := b.store.RoutesForAccount(ctx, b.store.Pool(), cc.account.ID)
		if err != nil {
			return nil, err
		}
		cc.routes, cc.haveRoutes = routes, true
	}
	return cc.routes, nil
}

// connFor returns a helpdesk connection's connector, built once per drain.
func (b *Bridge) connFor(ctx context.Context, cc *convCtx, id int64) (*connection, error) {
	if c, ok := cc.conns[id]; ok {
		return c, nil
	}
	c, err := b.connection(ctx, id)
	if err != nil {
		return nil, err
	}
	if cc.conns == nil {
		cc.conns = map[int64]*connection{}
	}
	cc.conns[id] = c
	return c, nil
}

// DeliverInbound posts a conversation's pending customer messages to its
// helpdesk ticket, in order, opening or reopening the ticket as needed. It
// records each message's remote id as soon as it exists, so a retry resumes
// at the first message not yet posted.
func (b *Bridge) DeliverInbound(ctx context.Context, convID int64) error {
	return b.drain(ctx, convID, store.DirIn, b.deliverOne)
}

// drain claims a conversation's direction and works its pending messages in
// sequence order until none is left or one asks the job to stop.
func (b *Bridge) drain(ctx context.Context, convID int64, dir store.Direction, work func(context.Context, *convCtx, store.Message) error) error {
	release, err := b.claim(ctx, convID, dir)
	if err != nil {
		return err
	}
	defer release()

	cc, err := b.loadConversation(ctx, convID)
	if err != nil {
		return err
	}
	direction := "in"
	if dir == store.DirOut {
		direction = "out"
	}
	for {
		m, err := b.store.NextPendingAttempt(ctx, convID, direction)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := work(ctx, cc, m); err != nil {
			return err
		}
	}
}

func (b *Bridge) loadConversation(ctx context.Context, convID int64) (*convCtx, error) {
	conv, err := b.store.ConversationByID(ctx, b.store.Pool(), convID)
	if err != nil {
		return nil, fmt.Errorf("load conversation %d: %w", convID, err)
	}
	acc, err := b.store.AccountByID(ctx, b.store.Pool(), conv.AccountID)
	if err != nil {
		return nil, fmt.Errorf("load account: %w", err)
	}
	graph, err := b.graphClient(acc)
	if err != nil {
		return nil, err
	}
	return &convCtx{conv: conv, account: acc, graph: graph}, nil
}

func (b *Bridge) graphClient(acc store.Account) (*whatsapp.Client, error) {
	sec, err := b.store.Secrets(acc)
	if err != nil {
		return nil, err
	}
	return whatsapp.NewClient(whatsapp.ClientOpts{
		BaseURL: acc.GraphURL, Version: acc.GraphVersion, AccessToken: sec.AccessToken,
		PhoneNumberID: acc.PhoneNumberID, HTTPClient: b.http, Timeout: b.timeout,
	})
}

// connection is a helpdesk connection with its connector.
type connection struct {
	row store.Connection
	c   connectors.Connector
}

func (b *Bridge) connection(ctx context.Context, id int64) (*connection, error) {
	row, err := b.store.ConnectionByID(ctx, b.store.Pool(), id)
	if err != nil {
		return nil, fmt.Errorf("load connection %d: %w", id, err)
	}
	creds, err := b.store.Credentials(row)
	if err != nil {
		return nil, err
	}
	c, err := b.connectors(row, creds, b.http)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", row.Name, err)
	}
	return &connection{row: row, c: c}, nil
}

// deliverOne posts one pending message. A nil return means the message is
// done or failed for good (with its reason recorded); an error means the job
// should stop and be retried or snoozed.
func (b *Bridge) deliverOne(ctx context.Context, ic *convCtx, m store.Message) error {
	wm := whatsapp.DecodeMessage(m.Payload)
	var mediaErr error
	msg := connectors.Message{Body: Render(wm), Key: m.WAMID, At: m.CreatedAt}
	if m.WATimestamp != nil {
		msg.At = *m.WATimestamp
	}
	if wm.IsMedia() {
		msg.Attachments = []connectors.Attachment{b.mediaAttachment(ic, wm, &mediaErr)}
	}
	err := b.postMessage(ctx, ic, m, msg, &mediaErr)
	if errors.Is(err, errMediaGone) {
		// The file is gone for good: the agent still gets the message, with
		// a line saying what is missing, instead of nothing.
		msg.Attachments = nil
		msg.Body = strings.TrimSpace(msg.Body + "\n\n[The " + wm.Type + " could not be fetched from WhatsApp (" +
			mediaErr.Error() + "). Ask the customer to send it again.]")
		mediaErr = nil
		err = b.postMessage(ctx, ic, m, msg, &mediaErr)
	}
	return err
}

// errMediaGone reports that WhatsApp can no longer provide a message's media.
var errMediaGone = errors.New("media no longer available")

func (b *Bridge) postMessage(ctx context.Context, ic *convCtx, m store.Message, msg connectors.Message, mediaErr *error) error {
	ticket, err := b.store.ActiveTicket(ctx, b.store.Pool(), ic.conv.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return b.openTicket(ctx, ic, m, msg, nil, mediaErr)
	case err != nil:
		return err
	}
	route, _ := b.routeFor(ctx, ic, ticket.RouteID)
	if b.needsNewTicket(ticket, route) {
		return b.openTicket(ctx, ic, m, msg, &ticket, mediaErr)
	}

	conn, err := b.connFor(ctx, ic, ticket.ConnectionID)
	if err != nil {
		return err
	}
	if m.Attempts > 0 {
		// The last attempt may have posted it before failing: look first.
		if f, ok := conn.c.(connectors.MessageFinder); ok {
			fctx, cancel := context.WithTimeout(ctx, b.timeout)
			id, found, err := f.FindMessage(fctx, ticket.RemoteID, ticket.RequesterID, msg)
			cancel()
			if err != nil {
				return b.classify(ctx, m, conn, err, nil)
			}
			if found {
				return b.store.MarkPosted(ctx, b.store.Pool(), m.ID, ticket.ID, conn.row.ID, id)
			}
		}
	}
	pctx, cancel := context.WithTimeout(ctx, b.postTimeout(msg))
	commentID, err := conn.c.AddMessage(pctx, ticket.RemoteID, ticket.RequesterID, msg)
	cancel()
	if errors.Is(err, connectors.ErrTicketClosed) || connectors.IsNotFound(err) {
		// Closed or deleted on the helpdesk side: follow up in a new ticket.
		return b.openTicket(ctx, ic, m, msg, &ticket, mediaErr)
	}
	if err != nil {
		return b.classify(ctx, m, conn, err, *mediaErr)
	}
	if ticket.Status == string(connectors.StatusSolved) {
		if err := b.store.SetTicketStatus(ctx, b.store.Pool(), ticket.ID, string(connectors.StatusOpen)); err != nil {
			return err
		}
	}
	return b.store.MarkPosted(ctx, b.store.Pool(), m.ID, ticket.ID, conn.row.ID, commentID)
}

// needsNewTicket applies the reopen policy: a closed ticket, or one solved
// longer ago than the route's reopen window, gets a follow-up ticket.
func (b *Bridge) needsNewTicket(t store.Ticket, route *store.Route) bool {
	switch connectors.Status(t.Status) {
	case connectors.StatusClosed:
		return true
	case connectors.StatusSolved:
		window := 72 * time.Hour
		if route != nil {
			window = route.ReopenWindow
		}
		return t.ResolvedAt == nil || b.now().Sub(*t.ResolvedAt) > window
	}
	return false
}

// openTicket creates a ticket whose first comment is m, following up prev
// when there was one.
func (b *Bridge) openTicket(ctx context.Context, ic *convCtx, m store.Message, msg connectors.Message, prev *store.Ticket, mediaErr *error) error {
	route, err := b.chooseRoute(ctx, ic, msg.Body)
	if err != nil {
		return err
	}
	if route == nil {
		b.log.Warn("no route for the number; the message stays pending", "account", ic.account.Name, "message", m.ID)
		return b.store.MarkState(ctx, m.ID, store.StateFailed, map[string]string{
			"reason": "This WhatsApp number has no route to a helpdesk. Add a route in the admin page, then retry the message."})
	}
	conn, err := b.connFor(ctx, ic, route.ConnectionID)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, b.timeout)
	requesterID, err := conn.c.EnsureRequester(rctx, connectors.Requester{
		Phone: "+" + ic.conv.WaID, WaID: ic.conv.WaID, Name: ic.conv.ProfileName})
	cancel()
	if err != nil {
		return b.classify(ctx, m, conn, err, nil)
	}
	nt := connectors.NewTicket{
		RequesterID: requesterID,
		Subject:     Subject(ic.conv.ProfileName, ic.conv.WaID, msg.Body),
		First:       msg,
		Tags:        route.Tags,
		ExternalID:  "wa:" + ic.account.PhoneNumberID + ":" + ic.conv.WaID,
	}
	var prevID *int64
	if prev != nil && prev.ConnectionID == conn.row.ID {
		nt.PreviousTicketID = prev.RemoteID
		prevID = &prev.ID
	}
	cctx, cancel := context.WithTimeout(ctx, b.postTimeout(msg))
	t, firstComment, err := conn.c.CreateTicket(cctx, nt)
	cancel()
	if err != nil {
		return b.classify(ctx, m, conn, err, *mediaErr)
	}
	return b.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := b.store.LockTicketKey(ctx, tx, conn.row.ID, t.ID); err != nil {
			return err
		}
		row, err := b.store.InsertTicket(ctx, tx, store.NewTicket{
			ConversationID: ic.conv.ID, ConnectionID: conn.row.ID, RouteID: &route.ID, RemoteID: t.ID,
			RequesterID: requesterID, URL: t.URL, Status: string(t.Status), PreviousTicketID: prevID,
		})
		if err != nil {
			return err
		}
		if err := b.store.MarkPosted(ctx, tx, m.ID, row.ID, conn.row.ID, firstComment); err != nil {
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
func (b *Bridge) adoptParked(ctx context.Context, tx pgx.Tx, row store.Connection, remoteTicketID string) error {
	raws, err := b.store.TakeParkedEvents(ctx, tx, row.ID, remoteTicketID)
	if err != nil || len(raws) == 0 {
		return err
	}
	events := make([]connectors.Event, 0, len(raws))
	for _, raw := range raws {
		var e connectors.Event
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		events = append(events, e)
	}
	var res HelpdeskResult
	jobs, err := b.storeEvents(ctx, tx, row, events, &res)
	if err != nil || len(jobs) == 0 {
		return err
	}
	_, err = b.jobs.InsertManyTx(ctx, tx, jobs)
	return err
}

// chooseRoute picks the first matching route of the number.
func (b *Bridge) chooseRoute(ctx context.Context, ic *convCtx, firstBody string) (*store.Route, error) {
	routes, err := b.routesOf(ctx, ic)
	if err != nil {
		return nil, err
	}
	for i := range routes {
		if routeMatches(routes[i].Match, ic.conv.WaID, firstBody) {
			return &routes[i], nil
		}
	}
	return nil, nil
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

func (b *Bridge) routeFor(ctx context.Context, ic *convCtx, id *int64) (*store.Route, error) {
	if id == nil {
		return nil, nil
	}
	routes, err := b.routesOf(ctx, ic)
	if err != nil {
		return nil, err
	}
	for i := range routes {
		if routes[i].ID == *id {
			return &routes[i], nil
		}
	}
	return nil, nil
}

// classify turns a failed helpdesk call into the job's outcome. Permanent
// failures mark the message failed (with the reason, retryable from the admin
// page) and let the job go on with the next message.
func (b *Bridge) classify(ctx context.Context, m store.Message, conn *connection, err, mediaErr error) error {
	if mediaErr != nil {
		// The attachment's download from Graph failed inside the upload.
		switch cls, wait := whatsapp.Classify(mediaErr); cls {
		case whatsapp.ClassWait:
			return b.snooze(wait)
		case whatsapp.ClassAuth:
			_ = b.store.SetAccountHealth(ctx, b.store.Pool(), conn.row.ID, "token_expired", "media download refused: "+mediaErr.Error())
			return fmt.Errorf("media download: %w", mediaErr)
		case whatsapp.ClassFinal:
			return errMediaGone
		default:
			return fmt.Errorf("media download: %w", mediaErr)
		}
	}
	if wait, ok := connectors.IsRateLimited(err); ok {
		return b.snooze(max(wait, time.Second))
	}
	switch connectors.ClassOf(err) {
	case connectors.ClassAuth:
		_ = b.store.SetConnectionHealth(ctx, b.store.Pool(), conn.row.ID, "auth_failed", err.Error())
		return err
	case connectors.ClassPermanent:
		b.log.Warn("helpdesk refused a message for good", "connection", conn.row.Name, "message", m.ID, "err", err)
		return b.store.MarkState(ctx, m.ID, store.StateFailed, map[string]string{"reason": err.Error()})
	}
	return err
}

// mediaAttachment streams a WhatsApp media file into the helpdesk upload.
// A download failure is kept in *errp so it can be classified on its own.
func (b *Bridge) mediaAttachment(ic *convCtx, m whatsapp.Message, errp *error) connectors.Attachment {
	media := m.Media
	name := media.Filename
	if name == "" {
		name = m.Type + "-" + shortID(m.ID) + extension(media.MimeType)
	}
	ctype := media.MimeType
	if i := strings.Index(ctype, ";"); i >= 0 && !strings.HasPrefix(ctype, "audio/ogg") {
		ctype = strings.TrimSpace(ctype[:i])
	}
	return connectors.Attachment{
		Filename: name, ContentType: ctype, Size: -1,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			rc, _, err := ic.graph.DownloadMedia(ctx, media.ID)
			if err != nil {
				*errp = err
				return nil, err
			}
			return rc, nil
		},
	}
}

func shortID(wamid string) string {
	s := strings.TrimPrefix(wamid, "wamid.")
	if len(s) > 12 {
		s = s[len(s)-12:]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

var preferredExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "audio/ogg": ".ogg", "audio/mpeg": ".mp3",
	"audio/mp4": ".m4a", "audio/aac": ".aac", "audio/amr": ".amr", "video/mp4": ".mp4", "video/3gpp": ".3gp",
	"application/pdf": ".pdf",
}

func extension(mimeType string) string {
	base, _, _ := mime.ParseMediaType(mimeType)
	if e, ok := preferredExt[base]; ok {
		return e
	}
	if exts, _ := mime.ExtensionsByType(base); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

func (b *Bridge) postTimeout(m connectors.Message) time.Duration {
	if len(m.Attachments) > 0 {
		return mediaTimeout
	}
	return b.timeout
}
