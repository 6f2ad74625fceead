package zendesktest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Users.

func (f *Fake) handleMe(w http.ResponseWriter, r *http.Request) {
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"user": f.userJSON(f.users[f.agentID])})
}

var digits = connectors.Digits

// handleUserSearch supports external_id (exact, case-insensitive) and a
// query with role:, phone: (digits, optional leading *) and name terms.
func (f *Fake) handleUserSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ext, query := q.Get("external_id"), q.Get("query")
	if (ext == "") == (query == "") {
		f.Violate("GET /api/v2/users/search: exactly one of query and external_id is needed")
		writeError(w, http.StatusBadRequest, "InvalidParameter", "query or external_id required")
		return
	}
	var role, phone string
	var terms []string
	for _, tok := range strings.Fields(query) {
		switch {
		case strings.HasPrefix(tok, "role:"):
			role = strings.TrimPrefix(tok, "role:")
		case strings.HasPrefix(tok, "phone:"):
			phone = strings.TrimPrefix(tok, "phone:")
			if d := digits(phone); d != strings.TrimPrefix(phone, "*") || d == "" {
				f.Violate("GET /api/v2/users/search: phone search takes digits only, got %q", phone)
			}
		default:
			terms = append(terms, strings.ToLower(tok))
		}
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	users := []userJSON{}
	for _, id := range f.userOrder {
		u := f.users[id]
		if u.deleted {
			continue // deleted users are not found
		}
		switch {
		case ext != "":
			if !strings.EqualFold(u.externalID, ext) {
				continue
			}
		default:
			if role != "" && u.role != role {
				continue
			}
			if phone != "" {
				ud := digits(u.phone)
				if ud == "" || (strings.HasPrefix(phone, "*") && !strings.HasSuffix(ud, digits(phone))) || (!strings.HasPrefix(phone, "*") && ud != phone) {
					continue
				}
			}
			if !slices.ContainsFunc(terms, func(t string) bool { return strings.Contains(strings.ToLower(u.name), t) }) && len(terms) > 0 {
				continue
			}
		}
		users = append(users, f.userJSON(u))
	}
	connectortest.WriteJSON(w, http.StatusOK, map[string]any{"users": users, "next_page": nil, "previous_page": nil, "count": len(users)})
}

func (f *Fake) handleCreateOrUpdateUser(w http.ResponseWriter, r *http.Request) {
	in, ok := decodeEnvelope(f, w, r, "create_or_update", "user", func(e *userRequest) *userFields { return e.User })
	if !ok {
		return
	}
	ext, email := deref(in.ExternalID), deref(in.Email)
	if ext == "" && email == "" {
		f.Violate("create_or_update: needs external_id or email to be idempotent")
	}
	if in.Role != nil && !slices.Contains([]string{"end-user", "agent", "admin"}, *in.Role) {
		writeError(w, http.StatusUnprocessableEntity, "RecordInvalid", "Role is invalid")
		return
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var found *user
	for _, id := range f.userOrder {
		u := f.users[id]
		if (ext != "" && strings.EqualFold(u.externalID, ext)) || (email != "" && strings.EqualFold(u.email, email)) {
			found = u
			break
		}
	}
	status := http.StatusOK
	if found == nil {
		if deref(in.Name) == "" {
			writeError(w, http.StatusUnprocessableEntity, "RecordInvalid", "Name: cannot be blank")
			return
		}
		role := "end-user"
		if in.Role != nil {
			role = *in.Role
		}
		found = f.users[f.addUser(deref(in.Name), email, deref(in.Phone), ext, role)]
		status = http.StatusCreated
	} else {
		if in.Name != nil && *in.Name != "" {
			found.name = *in.Name
		}
		if in.Phone != nil {
			found.phone = *in.Phone
		}
		if ext != "" {
			found.externalID = ext
		}
		found.updatedAt = f.now().UTC()
	}
	w.Header().Set("Location", f.apiURL("users/"+formatID(found.id)+".json"))
	connectortest.WriteJSON(w, status, map[string]any{"user": f.userJSON(found)})
}

func deref[T any](p *T) T { return connectortest.Deref(p) }

func (f *Fake) handleRequestedTickets(w http.ResponseWriter, r *http.Request) {
	uid := parseID(r.PathValue("id"))
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if f.users[uid] == nil {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return
	}
	var list []ticketJSON
	for _, id := range f.ticketOrder {
		if t := f.tickets[id]; t.requesterID == uid {
			list = append(list, f.ticketJSON(t))
		}
	}
	if r.URL.Query().Get("sort_order") == "desc" {
		slices.Reverse(list)
	}
	writePage(f, w, r, "tickets", list)
}

// handleDeleteUser soft-deletes a user, as Zendesk's Delete User does; an
// agent cannot delete themselves.
func (f *Fake) handleDeleteUser(w http.ResponseWriter, r *http.Request) {
	u := f.users[parseID(r.PathValue("id"))]
	switch {
	case u == nil || u.deleted:
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
	case u.id == f.agentID:
		writeError(w, http.StatusForbidden, "Forbidden", "You cannot delete yourself")
	default:
		u.deleted = true
		connectortest.WriteJSON(w, http.StatusOK, map[string]any{"user": f.userJSON(u)})
	}
}

// handlePermanentlyDeleteUser deletes a soft-deleted user for good: the
// personal data goes, the row stays renamed. A user not soft-deleted first
// is refused, as Zendesk does.
func (f *Fake) handlePermanentlyDeleteUser(w http.ResponseWriter, r *http.Request) {
	u := f.users[parseID(r.PathValue("id"))]
	switch {
	case u == nil || u.purged:
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
	case !u.deleted:
		f.Violate("DELETE /api/v2/deleted_users/%d: the user was not deleted first", u.id)
		writeError(w, http.StatusUnprocessableEntity, "RecordInvalid", "User must be soft deleted first")
	default:
		u.purged, u.name, u.email, u.phone, u.externalID = true, "Permanently Deleted User", "", "", ""
		connectortest.WriteJSON(w, http.StatusOK, map[string]any{"deleted_user": f.userJSON(u)})
	}
}

// Erased reports whether the user was permanently deleted.
func (f *Fake) Erased(userID string) bool {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	u := f.users[parseID(userID)]
	return u != nil && u.purged
}
