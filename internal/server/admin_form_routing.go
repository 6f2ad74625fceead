package server

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
)

// routingRuleForm is the routing rule form, with the fields of the declarative
// file's routes.
type routingRuleForm struct {
	AccountID, ConnectionID, Position string
	MatchKind, MatchValue             string
	ReopenWindow, Tags                string
	TemplateName, TemplateLanguage    string
	StatusDisplay                     string
	Errors                            map[string]string
	accountID                         store.AccountID
	connectionID                      store.ConnectionID
	position                          int
}

func routingRuleFormFromRequest(c echo.Context) *routingRuleForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return &routingRuleForm{AccountID: v("account_id"), ConnectionID: v("connection_id"), Position: v("position"),
		MatchKind: v("match_kind"), MatchValue: v("match_value"), ReopenWindow: v("reopen_window"), Tags: v("tags"),
		TemplateName: v("template_name"), TemplateLanguage: v("template_language"), StatusDisplay: v("status_display"),
		Errors: map[string]string{}}
}

func routingRuleFormFrom(r store.RouteView) *routingRuleForm {
	f := &routingRuleForm{AccountID: idText(r.AccountID), ConnectionID: idText(r.ConnectionID),
		Position: strconv.Itoa(r.Position), MatchKind: r.Match.Kind, MatchValue: r.Match.Value,
		ReopenWindow: windowString(r.ReopenWindow), Tags: strings.Join(r.Tags, ", "), StatusDisplay: r.StatusDisplay,
		Errors: map[string]string{}}
	if t := r.ReengagementTemplate; t != nil {
		f.TemplateName, f.TemplateLanguage = t.Name, t.Language
	}
	return f
}

// windowString writes a reopen window the way ParseWindow reads it.
func windowString(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// Validate checks the form against the numbers and helpdesks that exist.
func (f *routingRuleForm) Validate(accounts []store.Account, conns []store.Connection) bool {
	var err error
	if f.accountID, err = parseID[store.AccountID](f.AccountID); err != nil ||
		!slices.ContainsFunc(accounts, func(a store.Account) bool { return a.ID == f.accountID }) {
		f.Errors["account_id"] = "Choose the WhatsApp number."
	}
	if f.connectionID, err = parseID[store.ConnectionID](f.ConnectionID); err != nil ||
		!slices.ContainsFunc(conns, func(c store.Connection) bool { return c.ID == f.connectionID }) {
		f.Errors["connection_id"] = "Choose the helpdesk."
	}
	if f.Position == "" {
		f.Position = "0"
	}
	if f.position, err = strconv.Atoi(f.Position); err != nil || f.position < 0 || f.position > 10000 {
		f.Errors["position"] = "Enter a whole number from 0 (first) to 10000."
	}
	switch f.MatchKind {
	case "", "default":
		f.MatchKind, f.MatchValue = "default", ""
	case "country":
		if !digitsRe.MatchString(f.MatchValue) || len(f.MatchValue) > 3 {
			f.Errors["match_value"] = "Enter the calling code digits, e.g. 49 for Germany."
		}
	case "keyword":
		if f.MatchValue == "" {
			f.Errors["match_value"] = "Enter the keyword the first message must contain."
		} else if msg := plainText(f.MatchValue); msg != "" {
			f.Errors["match_value"] = msg
		}
	default:
		f.Errors["match_kind"] = "Choose default, country or keyword."
	}
	if f.ReopenWindow == "" {
		f.ReopenWindow = windowString(config.DefaultReopenWindow)
	} else if _, err := config.ParseWindow(f.ReopenWindow); err != nil {
		f.Errors["reopen_window"] = "Write a duration such as 72h or 3d, or 0 to never reopen."
	}
	if (f.TemplateName == "") != (f.TemplateLanguage == "") {
		if f.TemplateName == "" {
			f.Errors["template_name"] = "Give the template's name too, or clear the language."
		} else {
			f.Errors["template_language"] = "Give the template's language too, e.g. en_US."
		}
	}
	if f.TemplateName != "" && !templateNameRe.MatchString(f.TemplateName) {
		f.Errors["template_name"] = "Template names use lowercase letters, digits and underscores."
	}
	if !store.ValidStatusDisplay(f.StatusDisplay) {
		f.Errors["status_display"] = "Choose native, tag or off."
	}
	if f.TemplateLanguage != "" && !languageRe.MatchString(f.TemplateLanguage) {
		f.Errors["template_language"] = "Write the language code like en_US or de."
	}
	return len(f.Errors) == 0
}

// NewRule converts a valid form.
func (f *routingRuleForm) NewRule() store.NewRoute {
	window, _ := config.ParseWindow(f.ReopenWindow)
	n := store.NewRoute{AccountID: f.accountID, ConnectionID: f.connectionID, Position: f.position,
		Match: store.RouteMatch{Kind: f.MatchKind, Value: f.MatchValue}, ReopenWindow: window, Tags: splitTags(f.Tags),
		StatusDisplay: f.StatusDisplay}
	if f.TemplateName != "" {
		n.ReengagementTemplate = &store.Template{Name: f.TemplateName, Language: f.TemplateLanguage}
	}
	return n
}

// splitTags reads comma- or space-separated tags, keeping the first of
// duplicates.
func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// Fields lays the form out.
func (f *routingRuleForm) Fields(accounts []store.Account, conns []store.Connection, readOnly bool) []field {
	var accOpts, connOpts []option
	for _, a := range accounts {
		label := a.Name
		if a.DisplayPhoneNumber != "" {
			label += " (" + a.DisplayPhoneNumber + ")"
		}
		accOpts = append(accOpts, option{Value: idText(a.ID), Label: label, Selected: idText(a.ID) == f.AccountID})
	}
	connOpts = connectionOptions(conns, f.ConnectionID)
	kinds := []option{{"default", "Every conversation (default)", false}, {"country", "Customers from a country", false},
		{"keyword", "First message contains a keyword", false}}
	for i := range kinds {
		kinds[i].Selected = kinds[i].Value == f.MatchKind || (f.MatchKind == "" && i == 0)
	}
	fs := []field{
		{Name: "account_id", Label: "WhatsApp number", Type: "select", Options: accOpts, Required: true},
		{Name: "connection_id", Label: "Helpdesk", Type: "select", Options: connOpts, Required: true},
		{Name: "match_kind", Label: "Match", Type: "select", Options: kinds,
			Help: "Which of the number's new conversations this route takes. Routes are tried in order; the first that matches wins."},
		{Name: "match_value", Label: "Country code or keyword", Type: "text", Value: f.MatchValue, Placeholder: "49",
			Help: "Calling code digits for a country rule (49), or a word for a keyword rule (billing). Empty for default."},
		{Name: "position", Label: "Order", Type: "number", Value: f.Position, Placeholder: "0",
			Help: "Lower runs first. Put specific rules before the default one."},
		{Name: "reopen_window", Label: "Reopen window", Type: "text", Value: f.ReopenWindow, Placeholder: "72h",
			Help: "A message within this time after a ticket was solved reopens it; later ones open a follow-up ticket. 0 never reopens."},
		{Name: "tags", Label: "Tags", Type: "text", Value: f.Tags, Placeholder: "whatsapp, vip",
			Help: "Added to every ticket this route opens. Separate with commas."},
		{Name: "template_name", Label: "Re-engagement template", Type: "text", Value: f.TemplateName, Placeholder: "hello_world",
			Help: "An approved template sent when an agent replies after the 24-hour window closed. Empty: the agent gets a note instead."},
		{Name: "template_language", Label: "Template language", Type: "text", Value: f.TemplateLanguage, Placeholder: "en_US"},
		{Name: "status_display", Label: "Delivery status for agents", Type: "select", Options: statusDisplayOptions(f.StatusDisplay),
			Help: "How agents see that their replies were delivered and read, without extra comments."},
	}
	for i := range fs {
		fs[i].Error = f.Errors[fs[i].Name]
		fs[i].ReadOnly = readOnly
	}
	return fs
}

// statusDisplayOptions are a route's status displays, native first (the
// default).
func statusDisplayOptions(chosen string) []option {
	opts := []option{
		{Value: store.StatusDisplayNative, Label: "The helpdesk's own message status where it has one (Chatwoot), else a whatsapp-read style tag"},
		{Value: store.StatusDisplayTag, Label: "A ticket tag: whatsapp-sent, whatsapp-delivered, whatsapp-read"},
		{Value: store.StatusDisplayOff, Label: "Off"},
	}
	for i := range opts {
		opts[i].Selected = opts[i].Value == chosen || (chosen == "" && i == 0)
	}
	return opts
}

// connectionOptions are the helpdesks a route may go to, each labelled with
// what stops it working. A new route preselects the first working one
// (enabled and healthy), never a broken one: with none, the admin chooses.
func connectionOptions(conns []store.Connection, chosen string) []option {
	opts := []option{{Value: "", Label: "Choose a helpdesk"}}
	if chosen == "" {
		for _, c := range conns {
			if c.Enabled && c.Health == "healthy" {
				chosen = idText(c.ID)
				break
			}
		}
	}
	for _, c := range conns {
		label := c.Name + " (" + c.Kind + ")"
		switch {
		case !c.Enabled:
			label += " — disabled"
		case c.Health != "healthy" && c.Health != "":
			label += " — " + healthWords(c.Health)
		}
		opts = append(opts, option{Value: idText(c.ID), Label: label, Selected: idText(c.ID) == chosen})
	}
	opts[0].Selected = chosen == ""
	return opts
}

// healthWords says a connection's health for a label.
func healthWords(h string) string {
	switch h {
	case "unknown":
		return "not tested yet"
	case "auth_failed":
		return "credentials refused"
	case "unreachable":
		return "unreachable"
	}
	return "needs attention"
}
