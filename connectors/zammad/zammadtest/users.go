package zammadtest

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

// Users.

func (f *Fake) handleMe(w http.ResponseWriter, r *http.Request) {
	connectortest.WriteJSON(w, http.StatusOK, f.userJSON(f.users[AgentID], expand(r)))
}

// term is one field:value term of a search query.
type term struct{ field, value string }

var termRE = regexp.MustCompile(`([a-z_.]+):("(?:[^"\\]|\\.)*"|\S+)|(\S+)`)

// parseQuery splits an Elasticsearch query string into terms; and reports
// whether they are joined with AND (else OR).
func parseQuery(q string) ([]term, bool) {
	var terms []term
	and := false
	for _, m := range termRE.FindAllStringSubmatch(q, -1) {
		switch {
		case m[3] == "AND":
			and = true
		case m[3] == "OR":
		case m[3] != "":
			terms = append(terms, term{value: m[3]})
		default:
			v := m[2]
			if uq, err := strconv.Unquote(v); err == nil {
				v = uq
			}
			terms = append(terms, term{field: m[1], value: v})
		}
	}
	return terms, and
}

var digits = connectors.Digits

// matchUser applies a term as Elasticsearch would to analyzed fields:
// numbers match on their digits, text on words.
func matchUser(u *user, t term) bool {
	text := func(v string) bool { return v != "" && strings.Contains(strings.ToLower(v), strings.ToLower(t.value)) }
	number := func(v string) bool { return v != "" && digits(v) == digits(t.value) && digits(v) != "" }
	names := text(u.firstname) || text(u.lastname) || text(u.email) || text(u.login)
	return map[string]bool{
		"phone": number(u.phone), "mobile": number(u.mobile), "login": text(u.login), "email": text(u.email),
		"firstname": text(u.firstname), "lastname": text(u.lastname),
		"": names || number(u.phone) || number(u.mobile), "sql": names,
	}[t.field]
}

func (f *Fake) handleSearchUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	terms, and := parseQuery(q.Get("query"))
	f.Mu.Lock()
	noIndex := f.noIndex
	f.Mu.Unlock()
	if noIndex {
		// The database fallback: the whole query, LIKE '%query%'.
		terms, and = []term{{field: "sql", value: strings.ReplaceAll(q.Get("query"), "*", "")}}, false
	}
	if len(terms) == 0 {
		connectortest.WriteJSON(w, http.StatusOK, []userJSON{})
		return
	}
	for _, t := range terms {
		if strings.HasPrefix(t.value, "+") && !strings.HasPrefix(q.Get("query"), t.field+`:"`) && !strings.Contains(q.Get("query"), `"`+t.value+`"`) {
			f.Violate("users/search: a leading + is an operator in Elasticsearch queries; quote %q", t.value)
		}
	}
	limit := 10
	if l := q.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	out := []userJSON{}
	for _, id := range f.userOrder {
		u := f.users[id]
		hit := and
		for _, t := range terms {
			if and {
				hit = hit && matchUser(u, t)
			} else {
				hit = hit || matchUser(u, t)
			}
		}
		if hit && len(out) < limit {
			out = append(out, f.userJSON(u, expand(r)))
		}
	}
	connectortest.WriteJSON(w, http.StatusOK, out)
}

func (f *Fake) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	if !f.decode(w, r, &req) {
		return
	}
	if deref(req.Firstname) == "" && deref(req.Lastname) == "" && deref(req.Email) == "" && deref(req.Login) == "" && deref(req.Phone) == "" {
		writeError(w, http.StatusUnprocessableEntity, "At least one identifier (firstname, lastname, phone or email) for user is required.")
		return
	}
	roles := req.Roles
	if len(roles) == 0 {
		roles = []string{"Customer"} // Role.signup_role_ids
	}
	for _, role := range roles {
		if !slices.Contains([]string{"Admin", "Agent", "Customer"}, role) {
			writeError(w, http.StatusUnprocessableEntity, "No lookup value found for 'roles': \""+role+"\"")
			return
		}
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if email := strings.ToLower(deref(req.Email)); email != "" {
		for _, u := range f.users {
			if u.email == email {
				writeError(w, http.StatusUnprocessableEntity, "Email address '"+email+"' is already used for another user.")
				return
			}
		}
	}
	u := f.addUser(deref(req.Firstname), deref(req.Lastname), deref(req.Phone), deref(req.Mobile), deref(req.Note), slices.Clone(roles))
	u.email = strings.ToLower(deref(req.Email))
	if l := strings.ToLower(strings.TrimSpace(deref(req.Login))); l != "" {
		u.login = l
		// User#check_login: a taken login gets a number appended.
		for taken := true; taken; {
			taken = false
			for _, other := range f.users {
				if other.id != u.id && other.login == u.login {
					taken = true
					u.login = l + strconv.Itoa(int(f.newID()%1000))
				}
			}
		}
	} else if u.email != "" {
		u.login = u.email
	}
	connectortest.WriteJSON(w, http.StatusCreated, f.userJSON(u, expand(r)))
}
