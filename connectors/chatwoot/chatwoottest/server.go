package chatwoottest

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) routes() []connectortest.Route {
	a := "/api/v1/accounts/{account}/"
	return []connectortest.Route{
		{Pattern: "GET " + a + "contacts/search", Query: []string{"q", "page", "sort", "include_contact_inboxes"}, Handle: f.handleSearchContacts},
		{Pattern: "POST " + a + "contacts", Handle: f.handleCreateContact},
		{Pattern: "GET " + a + "contacts/{id}", Query: []string{"include_contact_inboxes"}, Handle: f.handleShowContact},
		{Pattern: "POST " + a + "contacts/{id}/contact_inboxes", Handle: f.handleCreateContactInbox},
		{Pattern: "GET " + a + "contacts/{id}/conversations", Handle: f.handleContactConversations},
		{Pattern: "POST " + a + "conversations", Handle: f.handleCreateConversation},
		{Pattern: "GET " + a + "conversations/{id}", Handle: f.handleShowConversation},
		{Pattern: "GET " + a + "conversations/{id}/messages", Query: []string{"before", "after", "filter_internal_messages"}, Handle: f.handleListMessages},
		{Pattern: "POST " + a + "conversations/{id}/messages", Handle: f.handleCreateMessage},
		{Pattern: "POST " + a + "conversations/{id}/labels", Handle: f.handleLabels},
		{Pattern: "GET " + a + "inboxes/{id}", Handle: f.handleShowInbox},
		{Pattern: "GET " + a + "webhooks", Handle: f.handleListWebhooks},
		{Pattern: "POST " + a + "webhooks", Handle: f.handleCreateWebhook},
		{Pattern: "PATCH " + a + "webhooks/{id}", Handle: f.handleUpdateWebhook},
		{Pattern: "PUT " + a + "webhooks/{id}", Handle: f.handleUpdateWebhook},
		{Pattern: "DELETE " + a + "webhooks/{id}", Handle: f.handleDeleteWebhook},
		{Pattern: "GET /rails/active_storage/blobs/redirect/{signed}/{filename}", Handle: f.handleBlob},
	}
}

func (f *Fake) handler() http.Handler {
	router := connectortest.NewRouter(f.routes())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"), ContentLength: r.ContentLength})
		if f.failures.Inject(w, r, failWith) {
			return
		}
		switch status, param := router.Check(r, &f.violations, "Chatwoot"); status {
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, "Resource could not be found")
			return
		case http.StatusBadRequest:
			writeError(w, http.StatusBadRequest, "unknown parameter "+param)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if r.Header.Get("api_access_token") != APIToken {
				writeError(w, http.StatusUnauthorized, "Invalid Access Token")
				return
			}
			if m := accountPath.FindStringSubmatch(r.URL.Path); m == nil || m[1] != strconv.Itoa(AccountID) {
				// An account the user does not belong to.
				writeError(w, http.StatusUnauthorized, "You are not authorized to access this account")
				return
			}
		}
		router.ServeHTTP(w, r)
	})
}

// noteFields remembers the body fields of the last recorded request.
func (f *Fake) noteFields(fields []string) {
	f.requests.UpdateLast(func(req *Request) { req.Fields = fields })
}

// failWith answers an injected failure as Chatwoot does.
func failWith(w http.ResponseWriter, kind connectortest.Failure) {
	switch kind {
	case connectortest.FailRateLimited:
		// Rack::Attack's throttled response; Retry-After only when the
		// instance enables throttled_response_retry_after_header.
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Retry-After", strconv.Itoa(int(connectortest.RateLimitRetryAfter/time.Second)))
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "Retry later\n")
	case connectortest.FailUnauthorized:
		writeError(w, http.StatusUnauthorized, "Invalid Access Token")
	default: // FailServerError
		connectortest.WriteJSON(w, http.StatusInternalServerError, map[string]any{"status": 500, "error": "Internal Server Error"})
	}
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
	raw, bad := connectortest.DecodeJSON(&f.violations, r, v, 8<<20)
	if keys := connectortest.JSONKeys(raw); keys != nil {
		f.noteFields(keys)
	}
	if bad != nil {
		writeError(w, bad.Status, bad.Message)
		return false
	}
	return true
}

// conversationAt returns the conversation the request's path names, or
// answers 404 and returns nil. Callers hold f.mu.
func (f *Fake) conversationAt(w http.ResponseWriter, r *http.Request) *conversation {
	return found(w, f.conversations[parseID(r.PathValue("id"))])
}

// contactAt returns the contact the request's path names, or answers 404
// and returns nil. Callers hold f.mu.
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

// JSON renderers. Callers hold f.mu.

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
	if ct.phone != "" {
		j.PhoneNumber = &ct.phone
	}
	if ct.email != "" {
		j.Email = &ct.email
	}
	if ct.identifier != "" {
		j.Identifier = &ct.identifier
	}
	if withInboxes {
		j.ContactInboxes = []contactInboxJSON{}
		for _, inbox := range sortedKeys(ct.sources) {
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
		if ct.phone != "" {
			s.Phone = &ct.phone
		}
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
		ContentType: "text", ContentAttributes: map[string]any{}, CreatedAt: m.createdAt.Unix(), Private: m.private,
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
	if ct.phone != "" {
		s.Phone = &ct.phone
	}
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

// Contacts.

// handleSearchContacts matches q against names, emails and phone numbers
// (case-insensitive substrings) and identifiers (substrings), 15 a page,
// with a has_more meta as recent Chatwoot does.
func (f *Fake) handleSearchContacts(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		writeError(w, http.StatusUnprocessableEntity, "Specify search string with parameter q")
		return
	}
	page := 1
	if p := r.URL.Query().Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			f.violations.Addf("contacts/search: page must be a positive number, got %q", p)
			n = 1
		}
		page = n
	}
	withInboxes := r.URL.Query().Get("include_contact_inboxes") != "false"
	lq := strings.ToLower(q)
	f.mu.Lock()
	defer f.mu.Unlock()
	var hits []*contact
	for _, id := range f.contactOrder {
		ct := f.contacts[id]
		if strings.Contains(strings.ToLower(ct.name), lq) || strings.Contains(strings.ToLower(ct.email), lq) ||
			strings.Contains(strings.ToLower(ct.phone), lq) || strings.Contains(ct.identifier, q) || formatID(ct.id) == q {
			hits = append(hits, ct)
		}
	}
	start := min((page-1)*15, len(hits))
	end := min(start+15, len(hits))
	list := []contactJSON{}
	for _, ct := range hits[start:end] {
		list = append(list, f.contactJSON(ct, withInboxes))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"count": len(list), "current_page": page, "has_more": end < len(hits)}, "payload": list})
}

func (f *Fake) handleCreateContact(w http.ResponseWriter, r *http.Request) {
	var req contactRequest
	if !f.decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	phone, ident, email := deref(req.PhoneNumber), deref(req.Identifier), strings.ToLower(deref(req.Email))
	if phone != "" && !e164.MatchString(phone) {
		writeInvalid(w, "phone_number", "Phone number should be in e164 format")
		return
	}
	for _, ct := range f.contacts {
		switch {
		case phone != "" && ct.phone == phone:
			writeInvalid(w, "phone_number", "Phone number has already been taken")
			return
		case ident != "" && ct.identifier == ident:
			writeInvalid(w, "identifier", "Identifier has already been taken")
			return
		case email != "" && ct.email == email:
			writeInvalid(w, "email", "Email has already been taken")
			return
		}
	}
	var inbox int64
	if req.InboxID != nil {
		inbox = *req.InboxID
		if inbox != InboxID && inbox != WebsiteInboxID {
			writeError(w, http.StatusNotFound, "Resource could not be found")
			return
		}
	}
	ct := f.addContact(deref(req.Name), phone, email, ident)
	var ci map[string]any
	if inbox != 0 {
		ct.sources[inbox] = uuid()
		ci = map[string]any{"inbox": inboxSlimJSON{ID: inbox, Name: f.inboxName(inbox), ChannelType: f.channelType(inbox)}, "source_id": ct.sources[inbox]}
	} else {
		ci = map[string]any{"inbox": nil, "source_id": nil}
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"contact": f.contactJSON(ct, true), "contact_inbox": ci}})
}

func (f *Fake) handleShowContact(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ct := f.contactAt(w, r)
	if ct == nil {
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": f.contactJSON(ct, r.URL.Query().Get("include_contact_inboxes") != "false")})
}

func (f *Fake) handleCreateContactInbox(w http.ResponseWriter, r *http.Request) {
	var req contactInboxRequest
	if !f.decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ct := f.contacts[parseID(r.PathValue("id"))]
	if ct == nil || req.InboxID == nil || (*req.InboxID != InboxID && *req.InboxID != WebsiteInboxID) {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	source := deref(req.SourceID)
	if source == "" {
		source = uuid()
	}
	for _, other := range f.contacts {
		if other.sources[*req.InboxID] == source {
			writeInvalid(w, "source_id", "Source has already been taken")
			return
		}
	}
	ct.sources[*req.InboxID] = source
	connectortest.WriteJSON(w, http.StatusOK, contactInboxJSON{SourceID: source, Inbox: inboxSlimJSON{ID: *req.InboxID, Name: f.inboxName(*req.InboxID), ChannelType: f.channelType(*req.InboxID)}})
}

// handleContactConversations lists the contact's 20 most recently active
// conversations.
func (f *Fake) handleContactConversations(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ct := f.contactAt(w, r)
	if ct == nil {
		return
	}
	var list []*conversation
	for _, id := range f.convOrder {
		if cv := f.conversations[id]; cv.contactID == ct.id {
			list = append(list, cv)
		}
	}
	slices.SortStableFunc(list, func(a, b *conversation) int { return b.lastActive.Compare(a.lastActive) })
	out := []conversationJSON{}
	for _, cv := range list[:min(20, len(list))] {
		out = append(out, f.conversationJSON(cv))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": out})
}

// Conversations.

func (f *Fake) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	var req conversationRequest
	if !f.decode(w, r, &req) {
		return
	}
	if req.SourceID == nil || *req.SourceID == "" {
		f.violations.Addf("POST conversations: source_id is required")
		writeError(w, http.StatusBadRequest, "param is missing or the value is empty: source_id")
		return
	}
	status := "open"
	if req.Status != nil {
		if !slices.Contains([]string{"open", "resolved", "pending"}, *req.Status) {
			writeError(w, http.StatusUnprocessableEntity, "'"+*req.Status+"' is not a valid status")
			return
		}
		status = *req.Status
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var owner *contact
	var inbox int64
	for _, ct := range f.contacts {
		for ib, src := range ct.sources {
			if src == *req.SourceID {
				owner, inbox = ct, ib
			}
		}
	}
	if owner == nil {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	if req.InboxID != nil && *req.InboxID != inbox {
		writeError(w, http.StatusUnprocessableEntity, "Contact inbox does not belong to the inbox")
		return
	}
	if req.ContactID != nil && *req.ContactID != owner.id {
		writeError(w, http.StatusUnprocessableEntity, "Contact inbox does not belong to the contact")
		return
	}
	now := f.now().UTC()
	f.nextConv++
	cv := &conversation{id: f.nextConv, uuid: uuid(), inboxID: inbox, contactID: owner.id, sourceID: *req.SourceID, status: status,
		attrs: cloneMap(req.AdditionalAttributes), createdAt: now, updatedAt: now, lastActive: now}
	f.conversations[cv.id] = cv
	f.convOrder = append(f.convOrder, cv.id)
	if req.Message != nil && deref(req.Message.Content) != "" {
		f.addMessage(cv, "outgoing", req.Message.Content, false, nil, "user", AgentID, nil)
	}
	connectortest.WriteJSON(w, http.StatusOK, f.conversationJSON(cv))
}

func (f *Fake) handleShowConversation(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, f.conversationJSON(cv))
}

// handleListMessages returns the latest 20 messages, or the 20 before a
// message id, oldest first (Chatwoot's MessageFinder).
func (f *Fake) handleListMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	ids := slices.Clone(cv.messages)
	if b := q.Get("before"); b != "" {
		before, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			f.violations.Addf("messages: before must be a message id, got %q", b)
		}
		ids = slices.DeleteFunc(ids, func(id int64) bool { return id >= before })
	}
	if a := q.Get("after"); a != "" {
		after, _ := strconv.ParseInt(a, 10, 64)
		ids = slices.DeleteFunc(ids, func(id int64) bool { return id <= after })
	} else {
		ids = ids[max(0, len(ids)-20):]
	}
	list := []messageJSON{}
	for _, id := range ids {
		list = append(list, f.messageJSON(f.messages[id]))
	}
	ct := f.contacts[cv.contactID]
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{
		"meta":    map[string]any{"labels": nonNil(cv.labels), "additional_attributes": cloneMap(cv.attrs), "contact_id": ct.id},
		"payload": list,
	})
}

// parsedMessage is a message create request, from JSON or a form.
type parsedMessage struct {
	content     *string
	messageType string
	private     bool
	sourceID    *string
	files       []*blob
}

func (f *Fake) handleCreateMessage(w http.ResponseWriter, r *http.Request) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var pm parsedMessage
	switch mt {
	case "multipart/form-data":
		var ok bool
		if pm, ok = f.parseMultipart(w, r, params["boundary"]); !ok {
			return
		}
	default:
		var req messageRequest
		if !f.decode(w, r, &req) {
			return
		}
		pm = parsedMessage{content: req.Content, messageType: deref(req.MessageType), private: deref(req.Private), sourceID: req.SourceID}
	}
	if pm.messageType == "" {
		pm.messageType = "outgoing"
	}
	if pm.messageType != "incoming" && pm.messageType != "outgoing" {
		f.violations.Addf("POST messages: message_type must be incoming or outgoing, got %q", pm.messageType)
		writeError(w, http.StatusUnprocessableEntity, "'"+pm.messageType+"' is not a valid message_type")
		return
	}
	if pm.content == nil && len(pm.files) == 0 {
		f.violations.Addf("POST messages: neither content nor attachments")
	}
	if len(pm.files) > 15 {
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Attachments exceeded maximum allowed")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	senderType, senderID := "user", int64(AgentID)
	if pm.messageType == "incoming" {
		if cv.inboxID != InboxID {
			writeError(w, http.StatusUnprocessableEntity, "Incoming messages are only allowed in Api inboxes")
			return
		}
		if pm.private {
			f.violations.Addf("POST messages: an incoming message cannot be private")
		}
		senderType, senderID = "contact", cv.contactID
	}
	for _, b := range pm.files {
		f.nextOther++
		b.id = f.nextOther
		f.blobs[b.signed] = b
	}
	m := f.addMessage(cv, pm.messageType, pm.content, pm.private, pm.sourceID, senderType, senderID, pm.files)
	connectortest.WriteJSON(w, http.StatusOK, f.messageJSON(m))
}

// parseMultipart reads a multipart message, checking its field names.
func (f *Fake) parseMultipart(w http.ResponseWriter, r *http.Request, boundary string) (parsedMessage, bool) {
	var pm parsedMessage
	if boundary == "" {
		f.violations.Addf("POST messages: multipart body without boundary")
		writeError(w, http.StatusBadRequest, "bad multipart body")
		return pm, false
	}
	body := io.LimitReader(r.Body, 100<<20)
	mr := multipart.NewReader(body, boundary)
	var fields []string
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.violations.Addf("POST messages: unreadable multipart body: %v", err)
			writeError(w, http.StatusBadRequest, "bad multipart body")
			return pm, false
		}
		name := part.FormName()
		fields = append(fields, name)
		data, err := io.ReadAll(part)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad multipart body")
			return pm, false
		}
		total += int64(len(data))
		if name == "attachments[]" {
			if part.FileName() == "" {
				f.violations.Addf("POST messages: attachments[] part without a file name")
			}
			ct := part.Header.Get("Content-Type")
			if _, _, err := mime.ParseMediaType(ct); err != nil {
				f.violations.Addf("POST messages: attachment %q without a valid Content-Type", part.FileName())
			}
			mt, _, _ := mime.ParseMediaType(ct)
			pm.files = append(pm.files, &blob{signed: randomString(18), filename: path.Base(part.FileName()), ctype: mt, data: data})
			continue
		}
		if !slices.Contains(multipartMessageFields, name) {
			f.violations.Addf("POST messages: undocumented form field %q", name)
			writeError(w, http.StatusBadRequest, "unknown field "+name)
			return pm, false
		}
		v := string(data)
		switch name {
		case "content":
			pm.content = &v
		case "message_type":
			pm.messageType = v
		case "private":
			b, err := strconv.ParseBool(v)
			if err != nil {
				f.violations.Addf("POST messages: private must be true or false, got %q", v)
			}
			pm.private = b
		case "source_id":
			pm.sourceID = &v
		}
	}
	f.noteFields(fields)
	return pm, true
}

func (f *Fake) handleLabels(w http.ResponseWriter, r *http.Request) {
	var req labelsRequest
	if !f.decode(w, r, &req) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	cv.labels = nil
	for _, l := range req.Labels {
		if l != "" && !slices.Contains(cv.labels, l) {
			cv.labels = append(cv.labels, l)
		}
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": nonNil(cv.labels)})
}

func (f *Fake) handleShowInbox(w http.ResponseWriter, r *http.Request) {
	id := parseID(r.PathValue("id"))
	if id != InboxID && id != WebsiteInboxID {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "name": f.inboxName(id), "channel_type": f.channelType(id), "channel_id": id + 100, "account_id": AccountID})
}

// Webhooks.

func (f *Fake) webhookJSON(wh *webhook) any {
	if f.legacy {
		return legacyWebhookJSON{ID: wh.id, Name: wh.name, URL: wh.url, AccountID: AccountID, Subscriptions: slices.Clone(wh.subscriptions)}
	}
	secret := wh.secret
	return webhookJSON{ID: wh.id, Name: wh.name, URL: wh.url, AccountID: AccountID, Subscriptions: slices.Clone(wh.subscriptions), Secret: &secret}
}

func (f *Fake) checkWebhook(w http.ResponseWriter, req webhookRequest, needURL bool) bool {
	if needURL || req.URL != nil {
		u, err := url.Parse(deref(req.URL))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			writeInvalid(w, "url", "Url is invalid")
			return false
		}
	}
	for _, s := range req.Subscriptions {
		if !slices.Contains(webhookEvents, s) {
			f.violations.Addf("webhooks: unknown subscription %q", s)
			writeInvalid(w, "subscriptions", "Subscriptions Invalid events")
			return false
		}
	}
	return true
}

func (f *Fake) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []any{}
	for _, id := range f.webhookOrder {
		list = append(list, f.webhookJSON(f.webhooks[id]))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"webhooks": list}})
}

func (f *Fake) handleCreateWebhook(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if !f.decode(w, r, &req) || !f.checkWebhook(w, req, true) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, wh := range f.webhooks {
		if wh.url == *req.URL {
			writeInvalid(w, "url", "Url has already been taken")
			return
		}
	}
	subs := req.Subscriptions
	if len(subs) == 0 {
		subs = []string{"conversation_status_changed", "conversation_updated", "conversation_created", "message_created", "message_updated", "webwidget_triggered"}
	}
	f.nextOther++
	wh := &webhook{id: f.nextOther, name: deref(req.Name), url: *req.URL, subscriptions: slices.Clone(subs), secret: randomString(24)}
	f.webhooks[wh.id] = wh
	f.webhookOrder = append(f.webhookOrder, wh.id)
	if tok := tokenOf(wh.url); f.legacy && tok != "" {
		f.legacyToken = tok
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"webhook": f.webhookJSON(wh)}})
}

func (f *Fake) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if !f.decode(w, r, &req) || !f.checkWebhook(w, req, false) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	wh := found(w, f.webhooks[parseID(r.PathValue("id"))])
	if wh == nil {
		return
	}
	if req.URL != nil {
		wh.url = *req.URL
	}
	if req.Name != nil {
		wh.name = *req.Name
	}
	if req.Subscriptions != nil {
		wh.subscriptions = slices.Clone(req.Subscriptions)
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"webhook": f.webhookJSON(wh)}})
}

func (f *Fake) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := parseID(r.PathValue("id"))
	if f.webhooks[id] == nil {
		writeError(w, http.StatusNotFound, "Resource could not be found")
		return
	}
	delete(f.webhooks, id)
	f.webhookOrder = slices.DeleteFunc(f.webhookOrder, func(x int64) bool { return x == id })
	w.WriteHeader(http.StatusOK)
}

// handleBlob serves an Active Storage file; its signed URL needs no token.
func (f *Fake) handleBlob(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("api_access_token") != "" {
		f.violations.Addf("GET %s: the access token was sent to a file URL", r.URL.Path)
	}
	f.mu.Lock()
	b := f.blobs[r.PathValue("signed")]
	f.mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", b.ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b.data)))
	_, _ = w.Write(b.data)
}
