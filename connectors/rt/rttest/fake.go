package rttest

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Fake is one test's view of the real RT: its own queue and a
// failure-injecting proxy. Build it with [New].
type Fake struct {
	// URL is the proxy's address: give it to the connector as BaseURL.
	URL string
	// Queue is the test's queue.
	Queue string
	// Server is the test RT.
	Server Server

	t      testing.TB
	ctx    context.Context
	proxy  *proxy
	root   restClient
	agent  restClient
	secret []byte

	mu    sync.Mutex
	names map[string]string // user name -> numeric id
}

var (
	sweepOnce sync.Once
	sweepErr  error
	queueSeq  atomic.Int64
)

// New gives the test a queue on the real RT and a proxy in front of it. It
// skips the test loudly when there is no test server (see [Require]). The
// first call in a process waits until no other test process uses the
// server, then retires the customer users earlier runs left (their phone
// numbers and addresses are reused by the suite).
func New(t testing.TB) *Fake {
	t.Helper()
	s := Require(t)
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("rttest: bad RT URL %q: %v", s.URL, err)
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	f := &Fake{
		Server: s,
		t:      t,
		ctx:    context.Background(),
		root:   restClient{base: s.URL, hc: hc, auth: func(r *http.Request) { r.SetBasicAuth("root", s.RootPassword) }},
		agent:  restClient{base: s.URL, hc: hc, auth: func(r *http.Request) { r.SetBasicAuth(s.AgentUser, s.AgentPassword) }},
		names:  map[string]string{},
	}
	sweepOnce.Do(func() {
		if sweepErr = holdServer(s); sweepErr == nil {
			sweepErr = f.retireCustomers()
		}
	})
	if sweepErr != nil {
		t.Fatalf("rttest: taking the test server: %v", sweepErr)
	}
	secret := connectortest.RandomBytes(24)
	f.secret = []byte(base64.RawURLEncoding.EncodeToString(secret))
	f.Queue = fmt.Sprintf("rdtest-%d-%d", time.Now().UnixNano(), queueSeq.Add(1))
	if err := f.root.do(f.ctx, http.MethodPost, "queue", nil, map[string]any{"Name": f.Queue, "Description": "relaydesk connector test"}, nil); err != nil {
		t.Fatalf("rttest: create queue: %v", err)
	}
	f.proxy = newProxy(target)
	f.URL = f.proxy.srv.URL
	t.Cleanup(func() {
		f.proxy.close()
		// Disable the queue: its tickets stay for post-mortems.
		_ = f.root.do(context.Background(), http.MethodDelete, "queue/"+url.PathEscape(f.Queue), nil, nil, nil)
	})
	return f
}

// Config returns a connector configuration for the test's queue through
// the proxy, with the API user's token. HTTPClient is left nil.
func (f *Fake) Config() connectors.Config {
	return connectors.Config{
		Name:    "test rt",
		BaseURL: f.URL,
		Settings: map[string]any{
			"url": f.Server.URL, "queue": f.Queue,
			"external_id_field": ExternalIDField, "tags_field": TagsField,
		},
		Credentials: map[string]string{"token": f.Server.Token},
	}
}

type userItem struct {
	Name         string `json:"Name"`
	EmailAddress string `json:"EmailAddress"`
	MobilePhone  string `json:"MobilePhone"`
	RealName     string `json:"RealName"`
}

// allUsers lists every enabled user (REST2 cannot search by phone).
func (f *Fake) allUsers() ([]userItem, error) {
	var out []userItem
	for page := 1; ; page++ {
		var res struct {
			Items []userItem `json:"items"`
		}
		q := url.Values{"fields": {"Name,EmailAddress,MobilePhone,RealName"}, "per_page": {"100"}, "page": {fmt.Sprint(page)}, "orderby": {"id"}}
		if err := f.root.do(f.ctx, http.MethodPost, "users", q, []map[string]string{{"field": "id", "operator": ">", "value": "0"}}, &res); err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.Items) < 100 {
			return out, nil
		}
	}
}

// retireCustomers renames the customer users of earlier runs.
func (f *Fake) retireCustomers() error {
	users, err := f.allUsers()
	if err != nil {
		return err
	}
	stamp := time.Now().UnixNano()
	for i, u := range users {
		if !strings.HasPrefix(u.MobilePhone, "+") && !strings.HasSuffix(strings.ToLower(u.EmailAddress), "@whatsapp.invalid") {
			continue
		}
		name := fmt.Sprintf("retired-%d-%d", stamp, i)
		in := map[string]any{"Name": name, "EmailAddress": name + "@retired.invalid", "MobilePhone": ""}
		if err := f.root.do(f.ctx, http.MethodPut, "user/"+url.PathEscape(u.Name), nil, in, nil); err != nil {
			return err
		}
	}
	return nil
}

// userID returns a user's numeric id by name.
func (f *Fake) userID(name string) string {
	f.mu.Lock()
	id, ok := f.names[name]
	f.mu.Unlock()
	if ok {
		return id
	}
	var u struct {
		ID json.Number `json:"id"`
	}
	if err := f.root.do(f.ctx, http.MethodGet, "user/"+url.PathEscape(name), nil, nil, &u); err != nil {
		f.t.Errorf("rttest: %v", err)
		return ""
	}
	f.mu.Lock()
	f.names[name] = u.ID.String()
	f.mu.Unlock()
	return u.ID.String()
}

// Users implements connectortest.Fake: the users with a mobile phone.
func (f *Fake) Users() []connectortest.User {
	users, err := f.allUsers()
	if err != nil {
		f.t.Errorf("rttest: list users: %v", err)
		return nil
	}
	var out []connectortest.User
	for _, u := range users {
		if u.MobilePhone == "" && !strings.HasPrefix(u.Name, "wa+") {
			continue // an agent or RT's own users; relaydesk's phoneless requesters are "wa+<bsuid>@..."
		}
		out = append(out, connectortest.User{ID: f.userID(u.Name), Name: u.RealName, Phone: u.MobilePhone, ExternalID: u.Name})
	}
	return out
}

// SeedUser implements connectortest.Fake: a user as an agent makes one for
// a WhatsApp customer in RT (docs/connectors/rt.md): its own user name,
// the number as mobile phone and the "wa+<digits>@whatsapp.invalid"
// address, since RT cannot look users up by phone.
func (f *Fake) SeedUser(name, phone string) string {
	uname := fmt.Sprintf("seed-%s-%d", strings.TrimPrefix(phone, "+"), time.Now().UnixNano())
	in := map[string]any{"Name": uname, "RealName": name, "MobilePhone": phone, "EmailAddress": "wa+" + strings.TrimPrefix(phone, "+") + "@whatsapp.invalid", "Privileged": 0}
	if err := f.root.do(f.ctx, http.MethodPost, "user", nil, in, nil); err != nil {
		f.t.Fatalf("rttest: seed user: %v", err)
	}
	return f.userID(uname)
}

type ticketJSON struct {
	ID           json.Number           `json:"id"`
	Subject      string                `json:"Subject"`
	Status       string                `json:"Status"`
	Requestor    []struct{ ID string } `json:"Requestor"`
	CustomFields []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"CustomFields"`
	Hyperlinks []struct {
		Ref string `json:"ref"`
		URL string `json:"_url"`
	} `json:"_hyperlinks"`
}

// Tickets implements connectortest.Fake: the queue's tickets.
func (f *Fake) Tickets() []connectortest.Ticket {
	var res struct {
		Items []struct {
			ID json.Number `json:"id"`
		} `json:"items"`
	}
	q := url.Values{"query": {"Queue = '" + f.Queue + "'"}, "orderby": {"id"}, "order": {"ASC"}, "per_page": {"100"}}
	if err := f.root.do(f.ctx, http.MethodGet, "tickets", q, nil, &res); err != nil {
		f.t.Errorf("rttest: list tickets: %v", err)
		return nil
	}
	var out []connectortest.Ticket
	for _, it := range res.Items {
		var tk ticketJSON
		if err := f.root.do(f.ctx, http.MethodGet, "ticket/"+it.ID.String(), nil, nil, &tk); err != nil {
			f.t.Errorf("rttest: %v", err)
			return nil
		}
		ct := connectortest.Ticket{ID: tk.ID.String(), Subject: tk.Subject, Status: statusOf(tk.Status)}
		if len(tk.Requestor) > 0 {
			ct.RequesterID = f.userID(tk.Requestor[0].ID)
		}
		for _, cf := range tk.CustomFields {
			switch cf.Name {
			case ExternalIDField:
				if len(cf.Values) > 0 {
					ct.ExternalID = cf.Values[0]
				}
			case TagsField:
				ct.Tags = slices.Clone(cf.Values)
			}
		}
		for _, h := range tk.Hyperlinks {
			if strings.EqualFold(h.Ref, "refers-to") || strings.EqualFold(h.Ref, "RefersTo") {
				ct.FollowupOf = h.URL[strings.LastIndex(h.URL, "/")+1:]
			}
		}
		out = append(out, ct)
	}
	return out
}

// statuses are the RT statuses that are not open.
var statuses = map[string]connectors.Status{
	"stalled": connectors.StatusPending, "resolved": connectors.StatusSolved, "rejected": connectors.StatusClosed, "deleted": connectors.StatusClosed,
}

func statusOf(raw string) connectors.Status { return cmp.Or(statuses[raw], connectors.StatusOpen) }

// RawStatus returns a ticket's RT status.
func (f *Fake) RawStatus(ticketID string) string {
	var tk ticketJSON
	if err := f.root.do(f.ctx, http.MethodGet, "ticket/"+ticketID, nil, nil, &tk); err != nil {
		f.t.Errorf("rttest: %v", err)
	}
	return tk.Status
}

// Comments implements connectortest.Fake: the ticket's Create,
// Correspond and Comment transactions with their text and files.
func (f *Fake) Comments(ticketID string) []connectortest.Comment {
	var res struct {
		Items []struct {
			ID      json.Number         `json:"id"`
			Kind    string              `json:"type"` // keeps "type" out of Type
			Type    string              `json:"Type"`
			Creator struct{ ID string } `json:"Creator"`
		} `json:"items"`
	}
	q := url.Values{"fields": {"Type,Creator"}, "per_page": {"100"}}
	if err := f.root.do(f.ctx, http.MethodGet, "ticket/"+ticketID+"/history", q, nil, &res); err != nil {
		f.t.Errorf("rttest: history: %v", err)
		return nil
	}
	var out []connectortest.Comment
	for _, tx := range res.Items {
		if tx.Type != "Create" && tx.Type != "Correspond" && tx.Type != "Comment" {
			continue
		}
		body, files := f.content(tx.ID.String())
		out = append(out, connectortest.Comment{ID: tx.ID.String(), AuthorID: f.userID(tx.Creator.ID), Body: body, Public: tx.Type != "Comment", Attachments: files})
	}
	return out
}

// content returns a transaction's text and files.
func (f *Fake) content(txn string) (string, []connectortest.File) {
	var res struct {
		Items []struct {
			ID          json.Number `json:"id"`
			ContentType string      `json:"ContentType"`
			Filename    string      `json:"Filename"`
		} `json:"items"`
	}
	q := url.Values{"fields": {"ContentType,Filename"}, "per_page": {"100"}}
	if err := f.root.do(f.ctx, http.MethodGet, "transaction/"+txn+"/attachments", q, nil, &res); err != nil {
		f.t.Errorf("rttest: %v", err)
		return "", nil
	}
	var body string
	var files []connectortest.File
	gotText := false
	for _, a := range res.Items {
		if a.Filename == "" && (a.ContentType != "text/plain" || gotText) {
			continue
		}
		var att struct {
			Content     string `json:"Content"`
			ContentType string `json:"ContentType"`
		}
		if err := f.root.do(f.ctx, http.MethodGet, "attachment/"+a.ID.String(), nil, nil, &att); err != nil {
			f.t.Errorf("rttest: %v", err)
			return "", nil
		}
		data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(att.Content, "\n", ""))
		if err != nil {
			f.t.Errorf("rttest: attachment %s: %v", a.ID, err)
		}
		if a.Filename == "" {
			body, gotText = strings.TrimRight(string(data), "\r\n"), true
			continue
		}
		files = append(files, connectortest.File{Filename: a.Filename, ContentType: att.ContentType, Data: data})
	}
	return body, files
}

// SetStatus implements connectortest.Fake: the agent sets the status
// (pending is stalled, solved resolved, closed rejected).
func (f *Fake) SetStatus(ticketID string, s connectors.Status) connectortest.Delivery {
	raw := map[connectors.Status]string{connectors.StatusOpen: "open", connectors.StatusPending: "stalled", connectors.StatusSolved: "resolved", connectors.StatusClosed: "rejected"}[s]
	f.SetRawStatus(ticketID, raw)
	return f.notice(connectortest.Notice{TicketID: ticketID, Status: string(s)})
}

// SetRawStatus sets an RT status as the agent.
func (f *Fake) SetRawStatus(ticketID, raw string) {
	if err := f.agent.do(f.ctx, http.MethodPut, "ticket/"+ticketID, nil, map[string]any{"Status": raw}, nil); err != nil {
		f.t.Fatalf("rttest: set status: %v", err)
	}
}

// AgentReply implements connectortest.Fake: correspondence by the agent.
func (f *Fake) AgentReply(ticketID, body string, files ...connectortest.File) string {
	return f.agentPost(ticketID, "correspond", "Correspond", body, files)
}

// AgentNote implements connectortest.Fake: a comment by the agent.
func (f *Fake) AgentNote(ticketID, body string) string {
	return f.agentPost(ticketID, "comment", "Comment", body, nil)
}

func (f *Fake) agentPost(ticketID, action, txnType, body string, files []connectortest.File) string {
	in := map[string]any{"Content": body, "ContentType": "text/plain"}
	var atts []map[string]string
	for _, fl := range files {
		atts = append(atts, map[string]string{"FileName": fl.Filename, "FileType": fl.ContentType, "FileContent": base64.StdEncoding.EncodeToString(fl.Data)})
	}
	if len(atts) > 0 {
		in["Attachments"] = atts
	}
	if err := f.agent.do(f.ctx, http.MethodPost, "ticket/"+ticketID+"/"+action, nil, in, nil); err != nil {
		f.t.Fatalf("rttest: %s: %v", action, err)
	}
	var res struct {
		Items []struct {
			ID json.Number `json:"id"`
		} `json:"items"`
	}
	cond := []map[string]string{{"field": "ObjectType", "value": "RT::Ticket"}, {"field": "ObjectId", "value": ticketID}, {"field": "Type", "value": txnType}}
	if err := f.root.do(f.ctx, http.MethodPost, "transactions", url.Values{"orderby": {"id"}, "order": {"DESC"}, "per_page": {"1"}}, cond, &res); err != nil || len(res.Items) == 0 {
		f.t.Fatalf("rttest: find the %s: %v", action, err)
	}
	return res.Items[0].ID.String()
}

// CommentDelivery implements connectortest.Fake.
func (f *Fake) CommentDelivery(ticketID, commentID string) connectortest.Delivery {
	body, _ := f.content(commentID)
	return f.notice(connectortest.Notice{TicketID: ticketID, CommentID: commentID, Body: body})
}

func (f *Fake) notice(n connectortest.Notice) connectortest.Delivery {
	return connectortest.NoticeDelivery(f.secret, n, time.Now().UTC().Truncate(time.Second))
}

// Redeliver implements connectortest.Fake.
func (f *Fake) Redeliver(d connectortest.Delivery) connectortest.Delivery {
	return connectortest.RedeliverNotice(f.secret, d)
}

// Sign implements connectortest.Fake: the notice signature
// ([connectortest.SignNotice]).
func (f *Fake) Sign(body []byte, at time.Time) http.Header {
	return connectortest.SignNotice(f.secret, body, at)
}

// WebhookSecret implements connectortest.Fake.
func (f *Fake) WebhookSecret() []byte { return slices.Clone(f.secret) }

// FailNext implements connectortest.Fake: the proxy fails the next n
// requests.
func (f *Fake) FailNext(n int, kind connectortest.Failure) { f.proxy.failures.FailNext(n, kind) }

var _ connectortest.Fake = (*Fake)(nil)
