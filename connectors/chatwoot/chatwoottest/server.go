package chatwoottest

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	a := "/api/v1/accounts/{account}/"
	return []connectortest.Route{
		{Pattern: "GET " + a + "contacts/search", Query: []string{"q", "page", "sort", "include_contact_inboxes"}, Handle: f.handleSearchContacts},
		{Pattern: "POST " + a + "contacts", Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleCreateContact)},
		{Pattern: "GET " + a + "contacts/{id}", Query: []string{"include_contact_inboxes"}, Handle: connectortest.Locking(&f.Mu, f.handleShowContact)},
		{Pattern: "DELETE " + a + "contacts/{id}", Handle: connectortest.Locking(&f.Mu, f.handleDeleteContact)},
		{Pattern: "POST " + a + "contacts/{id}/contact_inboxes", Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleCreateContactInbox)},
		{Pattern: "GET " + a + "contacts/{id}/conversations", Handle: connectortest.Locking(&f.Mu, f.handleContactConversations)},
		{Pattern: "POST " + a + "conversations", Handle: f.handleCreateConversation},
		{Pattern: "GET " + a + "conversations/{id}", Handle: connectortest.Locking(&f.Mu, f.handleShowConversation)},
		{Pattern: "GET " + a + "conversations/{id}/messages", Query: []string{"before", "after", "filter_internal_messages"}, Handle: f.handleListMessages},
		{Pattern: "POST " + a + "conversations/{id}/messages", Handle: f.handleCreateMessage},
		{Pattern: PatternMessageStatus, Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleMessageStatus)},
		{Pattern: "POST " + a + "conversations/{id}/labels", Handle: connectortest.JSONHandler(&f.Mu, f.decode, f.handleLabels)},
		{Pattern: "GET " + a + "inboxes/{id}", Handle: f.handleShowInbox},
		{Pattern: "GET " + a + "webhooks", Handle: connectortest.Locking(&f.Mu, f.handleListWebhooks)},
		{Pattern: "POST " + a + "webhooks", Handle: connectortest.JSONHandler(&f.Mu, f.webhookDecoder(true), f.handleCreateWebhook)},
		{Pattern: "PATCH " + a + "webhooks/{id}", Handle: connectortest.JSONHandler(&f.Mu, f.webhookDecoder(false), f.handleUpdateWebhook)},
		{Pattern: "PUT " + a + "webhooks/{id}", Handle: connectortest.JSONHandler(&f.Mu, f.webhookDecoder(false), f.handleUpdateWebhook)},
		{Pattern: "DELETE " + a + "webhooks/{id}", Handle: connectortest.Locking(&f.Mu, f.handleDeleteWebhook)},
		{Pattern: "GET /rails/active_storage/blobs/redirect/{signed}/{filename}", Handle: f.handleBlob},
	}
}

func (f *Fake) wire() connectortest.Wire {
	return connectortest.Wire{
		Helpdesk: "Chatwoot", Prefix: "chatwoottest", Routes: f.routes(), Fail: connectortest.CannedFailures(failures),
		Refuse: func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
			if status == http.StatusNotFound {
				msg = "Resource could not be found"
			}
			writeError(w, status, msg)
		},
		Guard: func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasPrefix(r.URL.Path, "/api/") {
				return true
			}
			if r.Header.Get("api_access_token") != APIToken {
				writeError(w, http.StatusUnauthorized, "Invalid Access Token")
				return false
			}
			if m := accountPath.FindStringSubmatch(r.URL.Path); m == nil || m[1] != strconv.Itoa(AccountID) {
				// An account the user does not belong to.
				writeError(w, http.StatusUnauthorized, "You are not authorized to access this account")
				return false
			}
			return true
		},
	}
}

// failures are Chatwoot's answers to injected failures. The 429 is
// Rack::Attack's throttled response; Retry-After comes only when the
// instance enables throttled_response_retry_after_header.
var failures = map[connectortest.Failure]connectortest.Canned{
	connectortest.FailUnauthorized: {Status: http.StatusUnauthorized, Body: `{"error":"Invalid Access Token"}`},
	connectortest.FailServerError:  {Status: http.StatusInternalServerError, Body: `{"error":"Internal Server Error","status":500}`},
	connectortest.FailRateLimited:  {Status: http.StatusTooManyRequests, Header: http.Header{"Content-Type": {"text/plain"}}, Body: "Retry later\n"},
}

func writeError(w http.ResponseWriter, status int, msg string) {
	connectortest.WriteJSON(w, status, map[string]string{"error": msg})
}

// writeInvalid answers 422 as Chatwoot does for an invalid record.
func writeInvalid(w http.ResponseWriter, attribute, msg string) {
	connectortest.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": msg, "attributes": []string{attribute}})
}

// decode reads a JSON body strictly into v, writing the 400 itself.
func (f *Fake) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if _, bad := f.DecodeJSON(r, v, 8<<20); bad != nil {
		writeError(w, bad.Status, bad.Message)
		return false
	}
	return true
}

// conversationAt returns the conversation the request's path names, or
// answers 404 and returns nil. Callers hold f.Mu.
func (f *Fake) conversationAt(w http.ResponseWriter, r *http.Request) *conversation {
	return found(w, f.conversations[parseID(r.PathValue("id"))])
}

// contactAt returns the contact the request's path names, or answers 404
// and returns nil. Callers hold f.Mu.
func (f *Fake) contactAt(w http.ResponseWriter, r *http.Request) *contact {
	return found(w, f.contacts[parseID(r.PathValue("id"))])
}

// found returns v, answering Chatwoot's 404 when it is nil.
func found[T any](w http.ResponseWriter, v *T) *T {
	if v == nil {
		writeError(w, http.StatusNotFound, "Resource could not be found")
	}
	return v
}

var (
	e164        = regexp.MustCompile(`\+[1-9]\d{1,14}\z`)
	accountPath = regexp.MustCompile(`^/api/v1/accounts/([^/]+)/`)
)

// JSON renderers. Callers hold f.Mu.

func (f *Fake) inboxName(id int64) string {
	if id == InboxID {
		return "WhatsApp (relaydesk)"
	}
	return "Website"
}

func (f *Fake) channelType(id int64) string {
	if id == InboxID {
		return "Channel::Api"
	}
	return "Channel::WebWidget"
}

func (f *Fake) contactJSON(ct *contact, withInboxes bool) contactJSON {
	j := contactJSON{
		AdditionalAttributes: map[string]any{}, AvailabilityStatus: "offline", ID: ct.id, Name: ct.name,
		CustomAttributes: map[string]any{}, CreatedAt: ct.createdAt.Unix(),
	}
	j.PhoneNumber = connectortest.Opt(ct.phone)
	j.Email = connectortest.Opt(ct.email)
	j.Identifier = connectortest.Opt(ct.identifier)
	if withInboxes {
		j.ContactInboxes = []contactInboxJSON{}
		for _, inbox := range slices.Sorted(maps.Keys(ct.sources)) {
			j.ContactInboxes = append(j.ContactInboxes, contactInboxJSON{
				SourceID: ct.sources[inbox], Inbox: inboxSlimJSON{ID: inbox, Name: f.inboxName(inbox), ChannelType: f.channelType(inbox)},
			})
		}
	}
	return j
}

func (f *Fake) senderJSON(m *message) *senderJSON {
	switch m.senderType {
	case "contact":
		ct := f.contacts[m.senderID]
		s := &senderJSON{ID: ct.id, Name: ct.name, Type: "contact"}
		s.Phone = connectortest.Opt(ct.phone)
		return s
	case "user":
		a := f.agents[m.senderID]
		return &senderJSON{ID: a.id, Name: a.name, Type: "user", Email: &a.email}
	}
	return nil
}

var messageTypes = map[string]int{"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}

func (f *Fake) messageJSON(m *message) messageJSON {
	cv := f.conversations[m.convID]
	j := messageJSON{
		ID: m.id, Content: m.content, InboxID: cv.inboxID, ConversationID: cv.id, MessageType: messageTypes[m.msgType],
		ContentType: "text", ContentAttributes: cloneMap(m.contentAttrs), CreatedAt: m.createdAt.Unix(), Private: m.private,
		SourceID: m.sourceID, Sender: f.senderJSON(m),
	}
	for _, b := range m.attachments {
		j.Attachments = append(j.Attachments, f.attachmentJSON(m, b))
	}
	return j
}

func (f *Fake) attachmentJSON(m *message, b *blob) attachmentJSON {
	fileType := "file"
	switch {
	case strings.HasPrefix(b.ctype, "image/"):
		fileType = "image"
	case strings.HasPrefix(b.ctype, "audio/"):
		fileType = "audio"
	case strings.HasPrefix(b.ctype, "video/"):
		fileType = "video"
	}
	u := f.URL + "/rails/active_storage/blobs/redirect/" + b.signed + "/" + url.PathEscape(b.filename)
	return attachmentJSON{ID: b.id, MessageID: m.id, FileType: fileType, AccountID: AccountID, DataURL: u, ThumbURL: "", FileSize: int64(len(b.data))}
}

func (f *Fake) meta(cv *conversation) conversationMetaJSON {
	ct := f.contacts[cv.contactID]
	s := senderJSON{ID: ct.id, Name: ct.name, Type: "contact"}
	s.Phone = connectortest.Opt(ct.phone)
	return conversationMetaJSON{Sender: s, Channel: f.channelType(cv.inboxID)}
}

func (f *Fake) lastMessages(cv *conversation) []messageJSON {
	for i := len(cv.messages) - 1; i >= 0; i-- {
		if m := f.messages[cv.messages[i]]; m.msgType != "activity" {
			return []messageJSON{f.messageJSON(m)}
		}
	}
	return []messageJSON{}
}

func (f *Fake) conversationJSON(cv *conversation) conversationJSON {
	return conversationJSON{
		Meta: f.meta(cv), ID: cv.id, Messages: f.lastMessages(cv), AccountID: AccountID, UUID: cv.uuid,
		AdditionalAttributes: cloneMap(cv.attrs), CanReply: true, CustomAttributes: map[string]any{}, InboxID: cv.inboxID,
		Labels: nonNil(cv.labels), Status: cv.status, CreatedAt: cv.createdAt.Unix(), Timestamp: cv.lastActive.Unix(),
		LastActivityAt: cv.lastActive.Unix(),
	}
}

func (f *Fake) webhookConversation(cv *conversation) webhookConversationJSON {
	return webhookConversationJSON{
		AdditionalAttributes: cloneMap(cv.attrs), CanReply: true, Channel: f.channelType(cv.inboxID),
		ContactInbox: map[string]any{"contact_id": cv.contactID, "inbox_id": cv.inboxID, "source_id": cv.sourceID, "hmac_verified": false},
		ID:           cv.id, InboxID: cv.inboxID, Messages: f.lastMessages(cv), Labels: nonNil(cv.labels), Meta: f.meta(cv),
		Status: cv.status, CustomAttributes: map[string]any{}, LastActivityAt: cv.lastActive.Unix(), Timestamp: cv.lastActive.Unix(),
		CreatedAt: cv.createdAt.Unix(), UpdatedAt: float64(cv.updatedAt.UnixMicro()) / 1e6,
	}
}

var cloneMap = connectortest.CloneObject

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
