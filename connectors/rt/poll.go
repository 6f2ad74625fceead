package rt

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors"
)

// pollRounds bounds the search pages one poll reads (100 transactions
// each).
const pollRounds = 5

// Poll implements connectors.Poller. The cursor is the id of the last
// transaction reported: RT's transaction ids only grow, so one search per
// round finds every ticket's new correspondence, comments and status
// changes in order,
//
//	POST /REST/2.0/transactions?orderby=id&order=ASC&per_page=100
//	[{"field":"id","operator":">","value":CURSOR},
//	 {"field":"ObjectType","value":"RT::Ticket"},
//	 {"field":"Type","value":"Correspond"}, {"field":"Type","value":"Comment"},
//	 {"field":"Type","value":"Status"}]
//
// (conditions on the same field are ORed, the others ANDed), and the next
// round starts after the last id seen: keyset paging, so transactions
// added meanwhile are neither skipped nor repeated. Correspondence is
// public, comments are private; an author who is unprivileged or a
// requestor of the ticket is the customer (FromRequester): that covers the
// messages relaydesk itself posts through the mail gateway. Each comment's
// text and files are read from its attachments. An empty cursor starts
// from the newest transaction. A failed call fails the whole poll and the
// given cursor stays valid.
func (c *Client) Poll(ctx context.Context, cursor string) ([]connectors.Event, string, error) {
	if cursor == "" {
		var page collection[transactionJSON]
		err := c.do(ctx, call{
			method: http.MethodPost, path: "transactions", query: url.Values{"orderby": {"id"}, "order": {"DESC"}, "per_page": {"1"}},
			in: []condition{{Field: "id", Operator: ">", Value: "0"}}, out: &page,
		})
		if err != nil {
			return nil, "", err
		}
		next := "0"
		if len(page.Items) > 0 {
			next = string(page.Items[0].ID)
		}
		return nil, next, nil
	}
	last, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || last < 0 {
		return nil, "", connectors.PermanentError("rt: unreadable poll cursor", err)
	}
	requestors := map[string]map[string]bool{} // ticket -> user names
	var events []connectors.Event
	for range pollRounds {
		var page collection[transactionJSON]
		err := c.do(ctx, call{
			method: http.MethodPost, path: "transactions",
			query: url.Values{"orderby": {"id"}, "order": {"ASC"}, "per_page": {"100"}, "fields": {"Type,Creator,Created,ObjectId,ObjectType,Field,OldValue,NewValue"}},
			in: []condition{
				{Field: "id", Operator: ">", Value: formatID(last)},
				{Field: "ObjectType", Value: "RT::Ticket"},
				{Field: "Type", Value: "Correspond"}, {Field: "Type", Value: "Comment"}, {Field: "Type", Value: "Status"},
			},
			out: &page,
		})
		if err != nil {
			return nil, "", err
		}
		for _, tx := range page.Items {
			id, err := parseID("transaction", string(tx.ID))
			if err != nil {
				return nil, "", err
			}
			e, ok, err := c.event(ctx, tx, requestors)
			if err != nil {
				return nil, "", err
			}
			if ok {
				events = append(events, e)
			}
			last = max(last, id)
		}
		if len(page.Items) < 100 {
			break
		}
	}
	return events, formatID(last), nil
}

// event turns one transaction into an event.
func (c *Client) event(ctx context.Context, tx transactionJSON, requestors map[string]map[string]bool) (connectors.Event, bool, error) {
	ticketID := string(tx.ObjectID)
	e := connectors.Event{EventID: "txn:" + string(tx.ID), TicketID: ticketID, At: parseTime(tx.Created)}
	switch tx.Type {
	case "Status":
		e.Type = connectors.EventTicketStatus
		e.Status = normalize(tx.NewValue)
		return e, true, nil
	case "Correspond", "Comment":
	default:
		return e, false, nil
	}
	author := string(tx.Creator.ID)
	info, err := c.user(ctx, author)
	if err != nil {
		return e, false, err
	}
	reqs, ok := requestors[ticketID]
	if !ok {
		tk, err := c.getTicket(ctx, ticketID)
		if err != nil && !connectors.IsNotFound(err) {
			return e, false, err
		}
		reqs = map[string]bool{}
		for _, r := range tk.Requestor {
			reqs[string(r.ID)] = true
		}
		requestors[ticketID] = reqs
		e.Status = normalize(tk.Status)
	}
	body, files, err := c.transactionContent(ctx, string(tx.ID))
	if err != nil {
		return e, false, err
	}
	e.Type = connectors.EventComment
	e.CommentID = string(tx.ID)
	e.AuthorID = info.id
	e.Public = tx.Type == "Correspond"
	e.FromRequester = !info.privileged || reqs[author]
	e.Body = body
	e.Attachments = files
	return e, true, nil
}
