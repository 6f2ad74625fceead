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
// are never sent. It runs on the reply lane (Opts.ReplyStore).
func (b *Bridge) HandleHelpdeskWebhook(ctx context.Context, publicID string, h http.Header, body []byte) (HelpdeskResult, error) {
	return b.replies.handleHelpdeskWebhook(ctx, publicID, h, body)
}

func (b *Bridge) handleHelpdeskWebhook(ctx context.Context, publicID string, h http.Header, body []byte) (HelpdeskResult, error) {
	var res HelpdeskResult
	// The deadline covers the connection's lookup too: a database that
	// does not answer gets a retriable 503, not a request left hanging.
	ctx, cancel := context.WithTimeout(ctx, b.intakeDeadline)
	defer cancel()
	row, err := b.store.ConnectionByPublicID(ctx, publicID)
	if errors.Is(err, store.ErrNotFound) {
		return res, &RejectError{RejectUnknownConnection, err}
	}
	if err != nil {
		return res, pastDeadline(ctx, err)
	}
	res.Kind = row.Kind
	if !row.Enabled {
		return res, &RejectError{RejectDisabled, errors.New("connection " + row.Name + " is disabled")}
	}
	conn, err := b.connectionOf(row)
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
	r := &helpdeskRequest{row: row, events: events, body: body}
	if b.gatherHelpdesk != nil {
		return b.gatherHelpdesk.do(ctx, r)
	}
	res, err = b.storeHelpdeskAlone(ctx, r)
	return res, pastDeadline(ctx, err)
}

// helpdeskRequest is one authenticated helpdesk webhook to store.
type helpdeskRequest struct {
	row    store.Connection
	events []connectors.Event
	body   []byte
}

// storeHelpdeskAlone stores one helpdesk webhook in a transaction of its own.
func (b *Bridge) storeHelpdeskAlone(ctx context.Context, r *helpdeskRequest) (HelpdeskResult, error) {
	var res HelpdeskResult
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		var jobs []river.InsertManyParams
		var err error
		res, jobs, err = b.storeHelpdesk(ctx, tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.InsertWebhookEvent(ctx, helpdeskEvent(r, res)); err != nil {
			return err
		}
		if err := tx.TouchWebhook(ctx, r.row.ID); err != nil {
			return err
		}
		return b.enqueue(ctx, tx, jobs)
	})
	return res, err
}

// storeHelpdeskGroup stores a group of helpdesk webhooks in one
// transaction (one multi-row insert of their raw events, one River insert)
// and answers each; when that fails, it stores them one by one.
func (b *Bridge) storeHelpdeskGroup(ctx context.Context, reqs []*grouped[*helpdeskRequest, HelpdeskResult]) {
	if len(reqs) == 1 {
		reqs[0].answer(b.storeHelpdeskAlone(ctx, reqs[0].req))
		return
	}
	results := make([]HelpdeskResult, len(reqs))
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		var jobs []river.InsertManyParams
		events := make([]store.WebhookEvent, len(reqs))
		touched := map[store.ConnectionID]bool{}
		for i, gr := range reqs {
			res, j, err := b.storeHelpdesk(ctx, tx, gr.req)
			if err != nil {
				return err
			}
			results[i], events[i] = res, helpdeskEvent(gr.req, res)
			jobs = append(jobs, j...)
			if !touched[gr.req.row.ID] {
				touched[gr.req.row.ID] = true
				if err := tx.TouchWebhook(ctx, gr.req.row.ID); err != nil {
					return err
				}
			}
		}
		if _, err := tx.InsertWebhookEvents(ctx, events); err != nil {
			return err
		}
		return b.enqueue(ctx, tx, jobs)
	})
	if err == nil || ctx.Err() != nil {
		for i, r := range reqs {
			if err != nil {
				results[i] = HelpdeskResult{Kind: r.req.row.Kind}
			}
			r.answer(results[i], err)
		}
		return
	}
	b.log.Info("group commit failed; storing its helpdesk webhooks one by one", "webhooks", len(reqs), "err", err)
	for _, r := range reqs {
		r.answer(b.storeHelpdeskAlone(ctx, r.req))
	}
}

// storeHelpdesk stores one webhook's events in tx and returns its result
// and the jobs to enqueue.
func (b *Bridge) storeHelpdesk(ctx context.Context, tx *store.Tx, r *helpdeskRequest) (HelpdeskResult, []river.InsertManyParams, error) {
	res := HelpdeskResult{Kind: r.row.Kind}
	jobs, err := b.storeEvents(ctx, tx, r.row, r.events, &res)
	return res, jobs, err
}

// helpdeskEvent is the raw event row of a helpdesk webhook.
func helpdeskEvent(r *helpdeskRequest, res HelpdeskResult) store.WebhookEvent {
	outcome := OutcomeNew
	if res.Replies == 0 && res.Statuses == 0 {
		outcome = OutcomeDuplicate
	}
	return store.WebhookEvent{
		Source: r.row.Kind, Outcome: outcome, Body: r.body,
		Summary: compactSummary(map[string]any{"connection": r.row.Name, "replies": res.Replies, "statuses": res.Statuses, "ignored": res.Ignored}),
	}
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
