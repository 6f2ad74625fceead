package freshdesktest

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
)

func (f *Fake) handleNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body         *string  `json:"body"`
		NotifyEmails []string `json:"notify_emails"`
		Incoming     *bool    `json:"incoming"`
		Private      *bool    `json:"private"`
		UserID       *int64   `json:"user_id"`
	}
	form, files, ok := f.readBody(w, r, &in, []string{"body", "incoming", "private", "user_id", "notify_emails"})
	if !ok {
		return
	}
	if form != nil {
		if v, ok := form["body"]; ok {
			in.Body = &v[0]
		}
		for key, dst := range map[string]**bool{"incoming": &in.Incoming, "private": &in.Private} {
			if v, ok := form[key]; ok {
				b, err := strconv.ParseBool(v[0])
				if err != nil {
					writeValidation(w, key, "datatype_mismatch", "It should be a/an Boolean")
					return
				}
				*dst = &b
			}
		}
		var ok bool
		if in.UserID, ok = intField(form, "user_id"); !ok {
			writeValidation(w, "user_id", "datatype_mismatch", "It should be a/an Positive Integer")
			return
		}
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		writeValidation(w, "body", "missing_field", "It should be a/an String")
		return
	}
	f.onTicket(w, r, func(t *ticket) {
		user := f.agentID
		if in.UserID != nil {
			if f.contacts[*in.UserID] == nil {
				writeValidation(w, "user_id", "invalid_value", "There is no user matching the given user_id")
				return
			}
			user = *in.UserID
		}
		private := in.Private == nil || *in.Private // notes are private by default
		incoming := in.Incoming != nil && *in.Incoming
		var toks []string
		for _, fl := range files {
			toks = append(toks, f.addFile(fl.name, fl.contentType, fl.data))
		}
		c := f.addConv(t, user, *in.Body, incoming, private, 2, toks)
		connectortest.WriteJSON(w, http.StatusCreated, f.conversationJSON(c))
	})
}

func (f *Fake) handleConversations(w http.ResponseWriter, r *http.Request) {
	f.Mu.Lock()
	t := f.ticketFor(w, r)
	if t == nil {
		f.Mu.Unlock()
		return
	}
	out := make([]conversationJSON, 0, len(t.convs))
	for _, cid := range t.convs {
		out = append(out, f.conversationJSON(f.convs[cid]))
	}
	f.Mu.Unlock()
	paginate(f, w, r, out)
}

func (f *Fake) handleDownload(w http.ResponseWriter, r *http.Request) {
	f.Mu.Lock()
	fl := f.files[r.PathValue("token")]
	f.Mu.Unlock()
	if fl == nil || r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", fl.contentType)
	_, _ = w.Write(fl.data)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;", "\n", "<br>").Replace(s)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// htmlText is the plain text of a Freshdesk HTML body, as body_text gives.
func htmlText(s string) string {
	s = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n").Replace(s)
	s = tagRE.ReplaceAllString(s, "")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}
