package server

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// field is one form field as the "field" partial renders it. Forms build
// their fields in Go, so one partial draws every form, including the
// helpdesk forms generated from connector descriptions.
type field struct {
	Name        string // the form field name
	Label       string
	Type        string // text, password, email, url, number, select, checkbox
	Value       string
	Checked     bool
	Required    bool
	Secret      bool // write-only: the value is never rendered
	IsSet       bool // a secret is stored (shown as "set")
	Help        string
	Placeholder string
	Error       string
	Options     []option
	// Auth lists the auth methods the field applies to, space-separated
	// ("" = all); the stylesheet hides fields of other methods.
	Auth         string
	ReadOnly     bool
	Autocomplete string
	// ShownElsewhere marks a secret field whose stored value the page
	// shows elsewhere (the verify token): no "never shown again".
	ShownElsewhere bool
}

// option is one choice of a select field.
type option struct {
	Value, Label string
	Selected     bool
}

// templateFuncs are the helpers templates may call.
func (s *Server) templateFuncs(version string) template.FuncMap {
	return template.FuncMap{
		"static": func(name string) string { return "/admin/static/" + name + "?v=" + version },
		"when":   when,
		"ago":    ago,
		"iso": func(t any) string {
			if tt, ok := timeOf(t); ok {
				return tt.UTC().Format(time.RFC3339)
			}
			return ""
		},
		"healthClass":   healthClass,
		"stateClass":    stateClass,
		"join":          strings.Join,
		"summary":       summaryText,
		"saidIn":        saidIn,
		"baseProblem":   baseProblem,
		"webhookFields": func() []string { return webhookFields },
		"authorLabel":   authorLabel,
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				if k, ok := kv[i].(string); ok {
					m[k] = kv[i+1]
				}
			}
			return m
		},
		"reason":   errorReason,
		"duration": humanDuration,
		"bytes":    humanBytes,
		"title":    titleText,
	}
}

// authorLabel names the authors of the 2026 platform on the timeline ("" for
// the customer, agents and API apps, which the side of the bubble shows).
func authorLabel(author string) string {
	switch author {
	case store.AuthorCustomerAI:
		return "customer, while Meta's AI handled the conversation"
	case store.AuthorMetaAI:
		return "Meta's AI (shown to agents as a note)"
	case store.AuthorBusinessApp:
		return "sent from the WhatsApp Business app (never sent by relaydesk)"
	case store.AuthorWhatsApp:
		return "handover (shown to agents as a note)"
	}
	return ""
}

func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil && !t.IsZero() {
			return *t, true
		}
	}
	return time.Time{}, false
}

// when formats a time for people, in UTC; "never" when unset.
func when(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return "never"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// ago says how long ago a time was, roughly.
func ago(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return "never"
	}
	d := time.Since(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// humanDuration writes a reopen window the way the forms take it.
func humanDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "never reopens"
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	}
	return d.String()
}

func humanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return strconv.Itoa(n) + " B"
}

// healthClass picks a badge colour for a health value.
func healthClass(h string) string {
	switch h {
	case "healthy", "ok", "connected":
		return "ok"
	case "unknown", "":
		return "muted"
	case "attention", "degraded", "rate_limited", "disabled":
		return "warn"
	}
	return "bad" // token_expired, auth_failed, unreachable, ...
}

// stateClass picks a badge colour for a message state or status.
func stateClass(s string) string {
	switch s {
	case "done", "sent", "delivered", "read", "accepted", "new":
		return "ok"
	case "failed", "rejected":
		return "bad"
	case "waiting_window", "pending", "duplicate", "account_event", "held", "unrouted":
		return "warn"
	}
	return "muted"
}

// titleText writes a state such as waiting_window as "Waiting window".
func titleText(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

// baseProblem says why Meta cannot call webhooks at base: Meta calls only
// public HTTPS addresses. "" when base looks fine.
func baseProblem(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return "relaydesk does not know its public address: set RELAYDESK_BASE_URL to the https:// address Meta can reach."
	}
	host := u.Hostname()
	local := host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") ||
		strings.HasSuffix(host, ".internal") || strings.HasSuffix(host, ".test")
	if ip := net.ParseIP(host); ip != nil {
		local = ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
	}
	switch {
	case local:
		return "This address is not reachable from the internet (" + host + "): Meta calls only public HTTPS URLs. " +
			"Set RELAYDESK_BASE_URL to relaydesk's public https:// address (or use a tunnel while testing)."
	case u.Scheme != "https":
		return "This address is not HTTPS: Meta refuses http:// callback URLs. Serve relaydesk behind TLS and set " +
			"RELAYDESK_BASE_URL to its https:// address."
	}
	return ""
}

// saidIn reports whether the page's message f already says text, so the
// page need not say it twice.
func saidIn(f *store.Flash, text string) bool {
	return f != nil && text != "" && strings.Contains(f.Message+" "+f.Detail, text)
}

// summaryText renders a webhook event's summary as "key: value" pairs,
// leaving out zeros and empty lists.
func summaryText(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		switch v := m[k].(type) {
		case nil:
			continue
		case float64:
			if v == 0 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s: %g", strings.ReplaceAll(k, "_", " "), v))
		case []any:
			if len(v) == 0 {
				continue
			}
			words := make([]string, len(v))
			for i, w := range v {
				words[i] = strings.ReplaceAll(fmt.Sprint(w), "_", " ")
			}
			parts = append(parts, strings.ReplaceAll(k, "_", " ")+": "+strings.Join(words, ", "))
		default:
			parts = append(parts, fmt.Sprintf("%s: %v", strings.ReplaceAll(k, "_", " "), v))
		}
	}
	if len(parts) == 0 {
		return "nothing new"
	}
	return strings.Join(parts, ", ")
}

// errorReason turns a message's stored error into plain words: WhatsApp
// status errors get Meta's explanation of their code; relaydesk's own
// reason is shown as written.
func errorReason(e *store.MessageError) string {
	switch {
	case e == nil:
		return ""
	case len(e.WhatsApp) > 0:
		out := make([]string, 0, len(e.WhatsApp))
		for _, w := range e.WhatsApp {
			text := whatsapp.PlainReason(w.Code)
			if w.Details != "" {
				text += " (" + w.Details + ")"
			} else if w.Title != "" && w.Code == 0 {
				text = w.Title
			}
			out = append(out, fmt.Sprintf("%s [WhatsApp error %d]", text, w.Code))
		}
		return strings.Join(out, "; ")
	case e.Reason != "":
		return e.Reason
	}
	raw, _ := json.Marshal(e)
	return string(raw)
}
