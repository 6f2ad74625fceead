package freshdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
)

// cursor is the poll position: a high-water mark and the keys already
// reported at or after it. Keys are "c<conversation id>" (a conversation
// reported), "s<ticket id>@<updated_at unix>" (a status reported) and
// "t<ticket id>@<updated_at unix>" (a ticket version fully read).
type cursor struct {
	V    int              `json:"v"`
	T    time.Time        `json:"t"`
	Seen map[string]int64 `json:"seen,omitempty"` // key -> unix time of the item
}

func parseCursor(s string) (cursor, error) {
	var cur cursor
	if err := json.Unmarshal([]byte(s), &cur); err != nil || cur.V != 1 || cur.T.IsZero() {
		return cursor{}, connectors.PermanentError("freshdesk: unreadable poll cursor", err)
	}
	if cur.Seen == nil {
		cur.Seen = map[string]int64{}
	}
	return cur, nil
}

func (cur cursor) String() string {
	b, err := json.Marshal(cur)
	if err != nil {
		panic(err) // a struct of strings, times and ints always marshals
	}
	return string(b)
}

// Poll implements connectors.Poller.
//
// It lists the tickets updated since the cursor's high-water mark
// (updated_since, oldest update first, following the Link header's pages),
// and for each ticket version not read yet reads its conversations: each
// one created between the mark and the ticket's listed updated_at is
// reported as a comment event (agent replies, notes and the requester's own
// messages alike; the bridge keeps [connectors.Event.IsAgentReply] ones),
// followed by a status event with the ticket's status. A conversation
// created after the ticket was listed bumps the ticket's updated_at, so the
// next poll reports it.
//
// Freshdesk timestamps have one-second resolution: the new cursor keeps the
// keys of everything reported at exactly the new mark, so items sharing
// that second are reported once. When the per-minute budget runs low
// (X-RateLimit-Remaining) or there are more pages than one poll reads, Poll
// stops early, returns what it has and keeps the mark where it was,
// remembering what it reported; the next poll carries on. A 429 fails the
// poll with a rate-limited error carrying Retry-After (the cursor given
// stays valid). An empty cursor starts from now.
func (c *Client) Poll(ctx context.Context, raw string) ([]connectors.Event, string, error) {
	if raw == "" {
		return nil, cursor{V: 1, T: time.Now().UTC().Truncate(time.Second)}.String(), nil
	}
	cur, err := parseCursor(raw)
	if err != nil {
		return nil, "", err
	}
	tickets, complete, listedAt, r, err := c.updatedTickets(ctx, cur.T)
	if err != nil {
		return nil, "", err
	}
	seen := map[string]int64{}
	for k, at := range cur.Seen {
		if at >= cur.T.Unix() {
			seen[k] = at
		}
	}
	// A ticket updated in the second the listing was made (the response's
	// Date) may be updated again within that second: its version is not
	// marked as read, so the next poll reads it again (its conversations and
	// status are deduplicated by their own keys).
	if listedAt.IsZero() {
		for _, tk := range tickets {
			if tk.UpdatedAt.After(listedAt) {
				listedAt = tk.UpdatedAt
			}
		}
	}
	var events []connectors.Event
	for _, tk := range tickets {
		version := "t" + formatID(tk.ID) + "@" + strconv.FormatInt(tk.UpdatedAt.Unix(), 10)
		if _, ok := seen[version]; ok {
			continue
		}
		if r.remaining >= 0 && r.remaining <= c.rateReserve {
			complete = false // leave the budget to the delivery jobs
			break
		}
		var convs []conversation
		convs, r, err = c.conversations(ctx, tk.ID)
		if err != nil {
			return nil, "", err
		}
		for _, cv := range convs {
			ck := "c" + formatID(cv.ID)
			if _, ok := seen[ck]; ok || cv.CreatedAt.Before(cur.T) || cv.CreatedAt.After(tk.UpdatedAt) {
				continue
			}
			events = append(events, c.commentEvent(tk, cv))
			seen[ck] = cv.CreatedAt.Unix()
		}
		sk := "s" + version[1:]
		if _, ok := seen[sk]; !ok {
			events = append(events, connectors.Event{
				Type:     connectors.EventTicketStatus,
				EventID:  fmt.Sprintf("status:%d:%d", tk.ID, tk.UpdatedAt.Unix()),
				TicketID: formatID(tk.ID),
				Status:   normalize(tk.Status),
				At:       tk.UpdatedAt,
			})
			seen[sk] = tk.UpdatedAt.Unix()
		}
		if tk.UpdatedAt.Unix() < listedAt.Unix() {
			seen[version] = tk.UpdatedAt.Unix()
		}
	}
	next := cursor{V: 1, T: cur.T, Seen: seen}
	if complete {
		for _, tk := range tickets {
			if tk.UpdatedAt.After(next.T) {
				next.T = tk.UpdatedAt.UTC()
			}
		}
		for k, at := range seen {
			if at < next.T.Unix() {
				delete(seen, k)
			}
		}
	}
	return events, next.String(), nil
}

// updatedTickets lists the tickets updated since t, oldest update first,
// and says when Freshdesk answered the first page (its Date header, or
// zero). complete is false when more pages remain than one poll reads.
func (c *Client) updatedTickets(ctx context.Context, t time.Time) (tickets []ticket, complete bool, listedAt time.Time, r rate, err error) {
	page := 1
	for range maxPages * 3 {
		var list []ticket
		q := url.Values{
			"updated_since": {t.UTC().Format(time.RFC3339)}, "order_by": {"updated_at"}, "order_type": {"asc"},
			"per_page": {"100"}, "page": {strconv.Itoa(page)},
		}
		var h http.Header
		r, h, err = c.do(ctx, call{method: http.MethodGet, path: "tickets", query: q, out: &list})
		if err != nil {
			return nil, false, time.Time{}, r, err
		}
		if page == 1 {
			listedAt, _ = http.ParseTime(h.Get("Date"))
		}
		for _, tk := range list {
			if !tk.UpdatedAt.Before(t) {
				tickets = append(tickets, tk)
			}
		}
		if page = nextPage(h); page == 0 {
			return tickets, true, listedAt, r, nil
		}
	}
	return tickets, false, listedAt, r, nil
}

func (c *Client) commentEvent(tk ticket, cv conversation) connectors.Event {
	e := connectors.Event{
		Type:          connectors.EventComment,
		EventID:       "conversation:" + formatID(cv.ID),
		TicketID:      formatID(tk.ID),
		CommentID:     formatID(cv.ID),
		AuthorID:      formatID(cv.UserID),
		Public:        !cv.Private,
		FromRequester: cv.Incoming || cv.UserID == tk.RequesterID,
		Body:          cv.BodyText,
		Status:        normalize(tk.Status),
		At:            cv.CreatedAt,
	}
	for _, a := range cv.Attachments {
		e.Attachments = append(e.Attachments, connectors.RemoteAttachment{URL: a.AttachmentURL, Filename: a.Name, ContentType: a.ContentType, Size: a.Size})
	}
	return e
}
