package bridge

import (
	"context"
	"errors"
	"net/http"

	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

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
	row, err := b.store.ConnectionByPublicID(ctx, publicID)
	if errors.Is(err, store.ErrNotFound) {
		return res, &RejectError{RejectUnknownConnection, err}
	}
	if err != nil {
		return res, err
	}
	res.Kind = row.Kind
	if !row.Enabled {
		return res, &RejectError{RejectDisabled, errors.New("connection " + row.Name + " is disabled")}
	}
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
	case err != nil:
		return res, &RejectError{RejectMalformed, err}
	}
	err = b.store.InTx(ctx, func(tx *store.Tx) error {
		res = HelpdeskResult{Kind: row.Kind}
		jobs, err := b.storeEvents(ctx, tx, row, events, &res)
		if err != nil {
			return err
		}
		outcome := OutcomeNew
		if res.Replies == 0 && res.Statuses == 0 {
			outcome = OutcomeDuplicate
		}
		if _, err := tx.InsertWebhookEvent(ctx, store.WebhookEvent{
			Source: row.Kind, Outcome: outcome, Body: body,
			Summary: map[string]any{"connection": row.Name, "replies": res.Replies, "statuses": res.Statuses, "ignored": res.Ignored},
		}); err != nil {
			return err
		}
		if err := tx.TouchWebhook(ctx, row.ID); err != nil {
			return err
		}
		return b.enqueue(ctx, tx, jobs)
	})
	return res, err
}

// storeEvents stores a connection's events (from a webhook, a poll or the
// parked ones) and returns the jobs to enqueue with them.
func (b *Bridge) storeEvents(ctx context.Context, tx *store.Tx, row store.Connection, events []connectors.Event, res *HelpdeskResult) ([]river.InsertManyParams, error) {
	var jobs []river.InsertManyParams
	for _, e := range events {
		t, found, err := b.eventTicket(ctx, tx, row, e)
		if err != nil {
			return nil, err
		}
		if !found {
			res.Ignored++ // a ticket relaydesk did not open, or a parked reply
			continue
		}
		switch {
		case e.Type == connectors.EventTicketStatus && e.Status.Valid():
			if err := tx.SetTicketStatus(ctx, t.ID, string(e.Status)); err != nil {
				return nil, err
			}
			res.Statuses++
		case e.IsAgentReply() && e.CommentID != "":
			j, err := b.storeReply(ctx, tx, row, t, e, res)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, j...)
		default:
			res.Ignored++
		}
	}
	return jobs, nil
}

// eventTicket finds the ticket an event is about. An agent reply or a
// status change about a ticket not (yet) recorded may have come before the
// job that created the ticket recorded it (an agent solving it at once):
// under the ticket's lock it looks again, and parks the event until the
// ticket is recorded (it expires if the ticket never is).
func (b *Bridge) eventTicket(ctx context.Context, tx *store.Tx, row store.Connection, e connectors.Event) (store.Ticket, bool, error) {
	t, err := tx.TicketByRemoteID(ctx, row.ID, e.TicketID)
	parkable := e.IsAgentReply() || (e.Type == connectors.EventTicketStatus && e.Status.Valid())
	if errors.Is(err, store.ErrNotFound) && parkable {
		if err := tx.LockTicketKey(ctx, row.ID, e.TicketID); err != nil {
			return t, false, err
		}
		t, err = tx.TicketByRemoteID(ctx, row.ID, e.TicketID)
		if errors.Is(err, store.ErrNotFound) {
			return t, false, tx.ParkEvent(ctx, row.ID, e.TicketID, e)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return t, false, nil
	}
	return t, err == nil, err
}

// KindReaction is the kind of an agent's reaction to a message (its emoji
// the body, the message reacted to its ReplyTo).
const KindReaction = "reaction"

// storeReply stores an agent's public reply and wakes the conversation's
// outbound queue; a redelivery, or a comment relaydesk posted itself, is
// ignored.
func (b *Bridge) storeReply(ctx context.Context, tx *store.Tx, row store.Connection, t store.Ticket, e connectors.Event, res *HelpdeskResult) ([]river.InsertManyParams, error) {
	o := store.Outbound{
		ConversationID: t.ConversationID, ConnectionID: &row.ID, TicketID: &t.ID, RemoteID: e.CommentID,
		Kind: "text", Body: e.Body, Attachments: e.Attachments, Author: "agent:" + e.AuthorID,
	}
	if e.InReplyTo != "" {
		// The comment answered (or reacted to) is a message of this
		// conversation relaydesk posted or sent: its wamid goes along. A
		// comment relaydesk does not know leaves a reply without context
		// (and a reaction with nothing to react to: its send says so).
		wamid, err := tx.WAMIDOfComment(ctx, t.ConversationID, row.ID, e.InReplyTo)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		o.ReplyTo = wamid
	}
	if e.Reaction {
		o.Kind = KindReaction
		o.Attachments = nil
	}
	id, inserted, err := tx.InsertOutbound(ctx, o)
	if err != nil {
		return nil, err
	}
	if !inserted {
		res.Ignored++
		return nil, nil
	}
	b.log.Debug("agent reply stored", "message", id, "ticket", t.RemoteID)
	res.Replies++
	return b.wake(ctx, tx, t.ConversationID, store.DirOut)
}
