package chatwoottest

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strconv"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// parsedMessage is a message create request, from JSON or a form.
type parsedMessage struct {
	content     *string
	messageType string
	private     bool
	sourceID    *string
	files       []*blob
}

func (f *Fake) handleListMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.Mu.Lock()
	defer f.Mu.Unlock()
	cv := f.conversationAt(w, r)
	if cv == nil {
		return
	}
	ids := slices.Clone(cv.messages)
	if b := q.Get("before"); b != "" {
		before, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			f.Violate("messages: before must be a message id, got %q", b)
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
		f.Violate("POST messages: message_type must be incoming or outgoing, got %q", pm.messageType)
		writeError(w, http.StatusUnprocessableEntity, "'"+pm.messageType+"' is not a valid message_type")
		return
	}
	if pm.content == nil && len(pm.files) == 0 {
		f.Violate("POST messages: neither content nor attachments")
	}
	if len(pm.files) > 15 {
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Attachments exceeded maximum allowed")
		return
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
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
			f.Violate("POST messages: an incoming message cannot be private")
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
		f.Violate("POST messages: multipart body without boundary")
		writeError(w, http.StatusBadRequest, "bad multipart body")
		return pm, false
	}
	body := io.LimitReader(r.Body, 100<<20)
	mr := multipart.NewReader(body, boundary)
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.Violate("POST messages: unreadable multipart body: %v", err)
			writeError(w, http.StatusBadRequest, "bad multipart body")
			return pm, false
		}
		name := part.FormName()
		data, err := io.ReadAll(part)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad multipart body")
			return pm, false
		}
		total += int64(len(data))
		if name == "attachments[]" {
			if part.FileName() == "" {
				f.Violate("POST messages: attachments[] part without a file name")
			}
			ct := part.Header.Get("Content-Type")
			if _, _, err := mime.ParseMediaType(ct); err != nil {
				f.Violate("POST messages: attachment %q without a valid Content-Type", part.FileName())
			}
			mt, _, _ := mime.ParseMediaType(ct)
			pm.files = append(pm.files, &blob{signed: randomString(18), filename: path.Base(part.FileName()), ctype: mt, data: data})
			continue
		}
		if !slices.Contains(multipartMessageFields, name) {
			f.Violate("POST messages: undocumented form field %q", name)
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
				f.Violate("POST messages: private must be true or false, got %q", v)
			}
			pm.private = b
		case "source_id":
			pm.sourceID = &v
		}
	}
	return pm, true
}
