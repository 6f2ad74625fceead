package freshdesktest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Wire types, in Freshdesk's field names.

type contactJSON struct {
	ID               int64   `json:"id"`
	Name             string  `json:"name"`
	Email            *string `json:"email"`
	Phone            *string `json:"phone"`
	Mobile           *string `json:"mobile"`
	UniqueExternalID *string `json:"unique_external_id"`
	Active           bool    `json:"active"`
	CreatedAt        string  `json:"created_at"`
	UpdatedAt        string  `json:"updated_at"`
}

type attachmentJSON struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	ContentType   string `json:"content_type"`
	Size          int    `json:"size"`
	AttachmentURL string `json:"attachment_url"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
}

type ticketJSON struct {
	ID              int64             `json:"id"`
	Subject         string            `json:"subject"`
	Description     *string           `json:"description,omitempty"`
	DescriptionText *string           `json:"description_text,omitempty"`
	Status          int               `json:"status"`
	Priority        int               `json:"priority"`
	Source          int               `json:"source"`
	RequesterID     int64             `json:"requester_id"`
	ResponderID     *int64            `json:"responder_id"`
	GroupID         *int64            `json:"group_id"`
	Type            *string           `json:"type"`
	Tags            []string          `json:"tags"`
	CustomFields    map[string]string `json:"custom_fields"`
	Attachments     []attachmentJSON  `json:"attachments,omitempty"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
}

type conversationJSON struct {
	ID           int64            `json:"id"`
	Body         string           `json:"body"`
	BodyText     string           `json:"body_text"`
	Incoming     bool             `json:"incoming"`
	Private      bool             `json:"private"`
	UserID       int64            `json:"user_id"`
	Source       int              `json:"source"`
	TicketID     int64            `json:"ticket_id"`
	SupportEmail *string          `json:"support_email"`
	ToEmails     []string         `json:"to_emails"`
	Attachments  []attachmentJSON `json:"attachments"`
	CreatedAt    string           `json:"created_at"`
	UpdatedAt    string           `json:"updated_at"`
}

const tsFormat = time.RFC3339

// Renderers. Callers hold f.Mu.

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (f *Fake) contactJSON(c *contact) contactJSON {
	ts := c.createdAt.Format(tsFormat)
	return contactJSON{ID: c.id, Name: c.name, Email: optional(c.email), Phone: optional(c.phone), Mobile: optional(c.mobile), UniqueExternalID: optional(c.external), Active: false, CreatedAt: ts, UpdatedAt: ts}
}

func (f *Fake) attachmentsJSON(tokens []string) []attachmentJSON {
	out := []attachmentJSON{}
	for _, tok := range tokens {
		fl := f.files[tok]
		out = append(out, attachmentJSON{
			ID: fl.id, Name: fl.name, ContentType: fl.contentType, Size: len(fl.data),
			// A signed file-store link: no API key needed.
			AttachmentURL: f.URL + "/files/" + fl.token + "?X-Amz-Signature=fake",
			CreatedAt:     f.now().UTC().Format(tsFormat), UpdatedAt: f.now().UTC().Format(tsFormat),
		})
	}
	return out
}

func (f *Fake) ticketJSON(t *ticket, withDescription bool) ticketJSON {
	j := ticketJSON{
		ID: t.id, Subject: t.subject, Status: t.status, Priority: t.priority, Source: t.source, RequesterID: t.requesterID,
		Tags: slices.Clone(t.tags), CustomFields: map[string]string{ExternalIDField: t.custom[ExternalIDField]},
		CreatedAt: t.createdAt.Format(tsFormat), UpdatedAt: t.updatedAt.Format(tsFormat),
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if withDescription {
		text := htmlText(t.description)
		j.Description, j.DescriptionText = &t.description, &text
		j.Attachments = f.attachmentsJSON(t.files)
	}
	return j
}

func (f *Fake) conversationJSON(c *conv) conversationJSON {
	ts := c.createdAt.Format(tsFormat)
	return conversationJSON{
		ID: c.id, Body: c.body, BodyText: htmlText(c.body), Incoming: c.incoming, Private: c.private, UserID: c.userID,
		Source: c.source, TicketID: c.ticketID, ToEmails: []string{}, Attachments: f.attachmentsJSON(c.files), CreatedAt: ts, UpdatedAt: ts,
	}
}

func (f *Fake) handleMe(w http.ResponseWriter, r *http.Request) {
	a := f.contacts[f.agentID]
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{
		"id": a.id, "available": true, "occasional": false, "ticket_scope": 1,
		"contact": map[string]any{"name": a.name, "email": a.email}, "created_at": a.createdAt.Format(tsFormat),
	})
}

func (f *Fake) handleListContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.Mu.Lock()
	var out []contactJSON
	for _, id := range f.order {
		c := f.contacts[id]
		if c.agent || c.deleted {
			continue
		}
		// Exact filters, as Freshdesk's are.
		if (q.Has("phone") && c.phone != q.Get("phone")) || (q.Has("mobile") && c.mobile != q.Get("mobile")) ||
			(q.Has("email") && !strings.EqualFold(c.email, q.Get("email"))) ||
			(q.Has("unique_external_id") && c.external != q.Get("unique_external_id")) {
			continue
		}
		out = append(out, f.contactJSON(c))
	}
	f.Mu.Unlock()
	paginate(f, w, r, out)
}

func (f *Fake) handleCreateContact(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name             string  `json:"name"`
		Email            *string `json:"email"`
		Phone            *string `json:"phone"`
		Mobile           *string `json:"mobile"`
		TwitterID        *string `json:"twitter_id"`
		UniqueExternalID *string `json:"unique_external_id"`
		Description      *string `json:"description"`
		JobTitle         *string `json:"job_title"`
		Language         *string `json:"language"`
		TimeZone         *string `json:"time_zone"`
	}
	if !f.decodeJSON(w, r, &in) {
		return
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if strings.TrimSpace(in.Name) == "" {
		writeValidation(w, "name", "missing_field", "It should be a/an String")
		return
	}
	if deref(in.Email) == "" && deref(in.Phone) == "" && deref(in.Mobile) == "" && deref(in.TwitterID) == "" && deref(in.UniqueExternalID) == "" {
		writeValidation(w, "requester_id", "missing_field", "Please fill at least 1 of email, mobile, phone, twitter_id, unique_external_id fields")
		return
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if ext := deref(in.UniqueExternalID); ext != "" {
		for _, o := range f.contacts {
			if o.external == ext && !o.deleted {
				writeValidation(w, "unique_external_id", "duplicate_value", "It should be a unique value")
				return
			}
		}
	}
	c := &contact{id: f.newID(), name: in.Name, email: deref(in.Email), phone: deref(in.Phone), mobile: deref(in.Mobile),
		external: deref(in.UniqueExternalID), createdAt: f.now().UTC()}
	f.contacts[c.id] = c
	f.order = append(f.order, c.id)
	connectortest.WriteJSON(w, http.StatusCreated, f.contactJSON(c))
}

// handleDeleteContact soft-deletes a contact, as Freshdesk's Delete a
// Contact does (204; the contact can still be restored). The API key's own
// agent cannot be deleted this way.
func (f *Fake) handleDeleteContact(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c := f.contacts[id]
	switch {
	case c == nil || c.deleted:
		writeError(w, http.StatusNotFound, "", "Resource not found")
	case c.agent:
		writeError(w, http.StatusForbidden, "access_denied", "You are not authorized to perform this action.")
	default:
		c.deleted = true
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleHardDeleteContact deletes a contact permanently with its personal
// data (Permanently Delete a Contact). A contact not soft-deleted first
// needs force=true, as Freshdesk requires.
func (f *Fake) handleHardDeleteContact(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c := f.contacts[id]
	switch {
	case c == nil || c.purged || c.agent:
		writeError(w, http.StatusNotFound, "", "Resource not found")
	case !c.deleted && r.URL.Query().Get("force") != "true":
		writeError(w, http.StatusBadRequest, "invalid_value", "Contact must be soft deleted first, or pass force=true")
	default:
		c.deleted, c.purged = true, true
		c.name, c.email, c.phone, c.mobile = "", "", "", ""
		w.WriteHeader(http.StatusNoContent)
	}
}

// Erased reports whether the contact was deleted permanently.
func (f *Fake) Erased(contactID string) bool {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	id, _ := strconv.ParseInt(contactID, 10, 64)
	c := f.contacts[id]
	return c != nil && c.purged
}
