package server

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Admin forms follow one shape: FromRequest reads the posted values,
// Validate fills Errors (field name -> message) and reports whether the form
// is good, and a conversion gives what the store takes. Handlers re-render
// the form with its errors next to the fields, or redirect with a flash.

var (
	digitsRe       = regexp.MustCompile(`^[0-9]{1,32}$`)
	graphVersionRe = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	displayPhoneRe = regexp.MustCompile(`^[0-9 +()-]{0,32}$`)
	languageRe     = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	templateNameRe = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
)

func validName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "Give it a name."
	case n > 64:
		return "Use at most 64 characters."
	}
	return ""
}

func validHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// numberForm is the WhatsApp number form, with the fields of the
// declarative file's whatsapp entries.
type numberForm struct {
	Name, PhoneNumberID, WABAID, DisplayPhoneNumber string
	AccessToken, AppSecret, VerifyToken             string
	GraphURL, GraphVersion, SendRate                string
	Errors                                          map[string]string
}

func numberFormFromRequest(c echo.Context) *numberForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return &numberForm{
		Name: v("name"), PhoneNumberID: v("phone_number_id"), WABAID: v("waba_id"), DisplayPhoneNumber: v("display_phone_number"),
		AccessToken: v("access_token"), AppSecret: v("app_secret"), VerifyToken: v("verify_token"),
		GraphURL: v("graph_url"), GraphVersion: v("graph_version"), SendRate: v("send_rate"),
		Errors: map[string]string{},
	}
}

// numberFormFrom fills the form from a stored number (secrets stay empty).
func numberFormFrom(a store.Account) *numberForm {
	return &numberForm{
		Name: a.Name, PhoneNumberID: a.PhoneNumberID, WABAID: a.WABAID, DisplayPhoneNumber: a.DisplayPhoneNumber,
		GraphURL: a.GraphURL, GraphVersion: a.GraphVersion, SendRate: strconv.Itoa(a.SendRate), Errors: map[string]string{},
	}
}

// Validate checks the form; creating requires the access token and app
// secret (an empty verify token is generated), editing keeps empty secrets.
func (f *numberForm) Validate(creating bool) bool {
	if msg := validName(f.Name); msg != "" {
		f.Errors["name"] = msg
	}
	if !digitsRe.MatchString(f.PhoneNumberID) {
		f.Errors["phone_number_id"] = "Enter the numeric phone number ID shown in WhatsApp Manager (API Setup)."
	}
	if !digitsRe.MatchString(f.WABAID) {
		f.Errors["waba_id"] = "Enter the numeric WhatsApp Business Account ID."
	}
	if !displayPhoneRe.MatchString(f.DisplayPhoneNumber) {
		f.Errors["display_phone_number"] = "Use digits, spaces, +, - and parentheses only."
	}
	if creating && f.AccessToken == "" {
		f.Errors["access_token"] = "Paste the system user access token."
	}
	if creating && f.AppSecret == "" {
		f.Errors["app_secret"] = "Paste the app secret (App settings > Basic)."
	}
	if f.GraphURL == "" {
		f.GraphURL = "https://graph.facebook.com"
	} else if !validHTTPURL(f.GraphURL) {
		f.Errors["graph_url"] = "Enter an http(s) URL such as https://graph.facebook.com."
	}
	if f.GraphVersion == "" {
		f.GraphVersion = "v23.0"
	} else if !graphVersionRe.MatchString(f.GraphVersion) {
		f.Errors["graph_version"] = "Write it like v23.0."
	}
	if f.SendRate == "" {
		f.SendRate = "80"
	} else if n, err := strconv.Atoi(f.SendRate); err != nil || n < 1 || n > 1000 {
		f.Errors["send_rate"] = "Enter a whole number from 1 to 1000 messages per second."
	}
	return len(f.Errors) == 0
}

// NewAccount converts a valid form.
func (f *numberForm) NewAccount() store.NewAccount {
	rate, _ := strconv.Atoi(f.SendRate)
	return store.NewAccount{
		Name: f.Name, PhoneNumberID: f.PhoneNumberID, WABAID: f.WABAID, DisplayPhoneNumber: f.DisplayPhoneNumber,
		GraphURL: f.GraphURL, GraphVersion: f.GraphVersion, SendRate: rate,
		AccessToken: f.AccessToken, AppSecret: f.AppSecret, VerifyToken: f.VerifyToken,
	}
}

// Fields lays the form out; set says which secrets are stored (editing).
func (f *numberForm) Fields(tokenSet, secretSet, verifySet, readOnly bool) []field {
	fs := []field{
		{Name: "name", Label: "Name", Type: "text", Value: f.Name, Required: true, Placeholder: "support-us",
			Help: "How this number is called in relaydesk (routes, logs)."},
		{Name: "display_phone_number", Label: "Display phone number", Type: "text", Value: f.DisplayPhoneNumber,
			Placeholder: "+1 555 078 3881", Help: "The number as customers see it; for your reference."},
		{Name: "phone_number_id", Label: "Phone number ID", Type: "text", Value: f.PhoneNumberID, Required: true,
			Placeholder: "106540352242922", Help: "WhatsApp Manager > API Setup: the ID of this phone number (not the number itself)."},
		{Name: "waba_id", Label: "WhatsApp Business Account ID", Type: "text", Value: f.WABAID, Required: true,
			Placeholder: "102290129340398"},
		{Name: "access_token", Label: "Access token", Type: "password", Secret: true, IsSet: tokenSet, Required: !tokenSet,
			Help: "A system user token with whatsapp_business_messaging and whatsapp_business_management.", Autocomplete: "off"},
		{Name: "app_secret", Label: "App secret", Type: "password", Secret: true, IsSet: secretSet, Required: !secretSet,
			Help: "Meta App Dashboard > App settings > Basic. relaydesk checks every webhook's signature with it.", Autocomplete: "off"},
		{Name: "verify_token", Label: "Verify token", Type: "password", Secret: true, IsSet: verifySet,
			Help:         "Any random text you also paste into Meta's webhook settings. Leave empty to have one generated; the Webhooks page shows it.",
			Autocomplete: "off"},
		{Name: "graph_url", Label: "Graph API URL", Type: "url", Value: f.GraphURL, Placeholder: "https://graph.facebook.com"},
		{Name: "graph_version", Label: "Graph API version", Type: "text", Value: f.GraphVersion, Placeholder: "v23.0"},
		{Name: "send_rate", Label: "Send rate", Type: "number", Value: f.SendRate, Placeholder: "80",
			Help: "Messages per second this number may send (Meta's default throughput is 80)."},
	}
	for i := range fs {
		fs[i].Error = f.Errors[fs[i].Name]
		fs[i].ReadOnly = readOnly
	}
	return fs
}

// connectionForm is a helpdesk connection form generated from the
// connector's Description: settings.<key> and credentials.<key> fields.
type connectionForm struct {
	desc        connectors.Description
	Name        string
	BaseURL     string
	Settings    map[string]any
	Credentials map[string]string // only the values typed; empty secrets keep the stored ones
	Errors      map[string]string
}

func settingName(f connectors.Field) string { return string(f.Group) + "." + f.Key }

func connectionFormFromRequest(c echo.Context, desc connectors.Description) *connectionForm {
	f := &connectionForm{desc: desc, Name: strings.TrimSpace(c.FormValue("name")), BaseURL: strings.TrimSpace(c.FormValue("base_url")),
		Settings: map[string]any{}, Credentials: map[string]string{}, Errors: map[string]string{}}
	for _, fd := range desc.Fields {
		raw := c.FormValue(settingName(fd))
		if fd.Type != connectors.FieldSecret && !fd.Secret {
			raw = strings.TrimSpace(raw)
		}
		if fd.Group == connectors.GroupCredentials {
			if raw != "" {
				f.Credentials[fd.Key] = raw
			}
			continue
		}
		switch fd.Type {
		case connectors.FieldBool:
			f.Settings[fd.Key] = raw == "on" || raw == "true"
		case connectors.FieldInt:
			if raw == "" {
				continue
			}
			if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
				f.Settings[fd.Key] = n
			} else {
				f.Settings[fd.Key] = raw // Validate reports it
			}
		default:
			if raw != "" {
				f.Settings[fd.Key] = raw
			}
		}
	}
	return f
}

func connectionFormFrom(desc connectors.Description, c store.Connection) *connectionForm {
	return &connectionForm{desc: desc, Name: c.Name, BaseURL: c.BaseURL, Settings: c.Settings,
		Credentials: map[string]string{}, Errors: map[string]string{}}
}

// Validate checks the form against the connector's description. stored are
// the credentials kept from before (editing), merged under the typed ones.
// It returns the complete credentials to store.
func (f *connectionForm) Validate(stored map[string]string) (map[string]string, bool) {
	if msg := validName(f.Name); msg != "" {
		f.Errors["name"] = msg
	}
	if f.BaseURL != "" && !validHTTPURL(f.BaseURL) {
		f.Errors["base_url"] = "Enter an http(s) URL, or leave it empty."
	}
	creds := map[string]string{}
	for k, v := range stored {
		if _, ok := f.desc.Field(k); ok {
			creds[k] = v
		}
	}
	for k, v := range f.Credentials {
		creds[k] = v
	}
	err := f.desc.Validate(f.Settings, creds)
	var verr connectors.ValidationError
	if errors.As(err, &verr) {
		for _, fe := range verr {
			name := string(fe.Group) + "." + fe.Key
			msg := fe.Message
			if fd, ok := f.desc.Field(fe.Key); ok && fd.Label != "" {
				msg = fd.Label + " " + msg + "."
			}
			f.Errors[name] = msg
		}
	} else if err != nil {
		f.Errors["name"] = err.Error()
	}
	return creds, len(f.Errors) == 0
}

// Fields lays out the connector's fields in its order. stored says which
// credentials are set (editing).
func (f *connectionForm) Fields(stored map[string]string, readOnly bool) []field {
	out := []field{{Name: "name", Label: "Name", Type: "text", Value: f.Name, Required: true, Error: f.Errors["name"],
		Placeholder: f.desc.Kind + "-main", Help: "How this connection is called in relaydesk.", ReadOnly: readOnly}}
	method := f.desc.AuthMethod(f.Settings)
	for _, fd := range f.desc.Fields {
		fv := field{Name: settingName(fd), Label: fd.Label, Help: fd.Help, Placeholder: fd.Placeholder,
			Required: fd.Required, Error: f.Errors[settingName(fd)], ReadOnly: readOnly}
		var auth []string
		for _, m := range fd.AuthMethods {
			auth = append(auth, string(m))
		}
		fv.Auth = strings.Join(auth, " ")
		value := ""
		if fd.Group == connectors.GroupSettings {
			if v, ok := f.Settings[fd.Key]; ok && v != nil {
				value = strings.TrimSpace(anyString(v))
			}
		}
		switch fd.Type {
		case connectors.FieldSecret:
			fv.Type, fv.Secret, fv.Autocomplete = "password", true, "off"
		case connectors.FieldBool:
			fv.Type = "checkbox"
			b, _ := connectors.AsBool(f.Settings[fd.Key])
			fv.Checked = b
		case connectors.FieldInt:
			fv.Type = "number"
		case connectors.FieldURL:
			fv.Type = "url"
		case connectors.FieldEmail:
			fv.Type = "email"
		case connectors.FieldSelect:
			fv.Type = "select"
			if fd.Key == connectors.SettingAuthMethod && value == "" {
				value = string(method)
			}
			for _, o := range fd.Options {
				fv.Options = append(fv.Options, option{Value: o.Value, Label: o.Label, Selected: o.Value == value})
			}
		default:
			fv.Type = "text"
		}
		if fd.Secret {
			fv.Type, fv.Secret, fv.Autocomplete = "password", true, "off"
		}
		if fd.Group == connectors.GroupCredentials {
			if fv.Secret {
				fv.IsSet = stored[fd.Key] != ""
				fv.Required = fd.Required && !fv.IsSet
			} else {
				// Non-secret credentials (an API user's email) are shown again.
				value = f.Credentials[fd.Key]
				if value == "" {
					value = stored[fd.Key]
				}
			}
		}
		if !fv.Secret {
			fv.Value = value
		}
		if len(fd.AuthMethods) > 0 {
			// Required only for its methods: the browser cannot know which
			// one is chosen without script, so the server checks it.
			fv.Required = false
		}
		out = append(out, fv)
	}
	out = append(out, field{Name: "base_url", Label: "API base URL (advanced)", Type: "url", Value: f.BaseURL,
		Error: f.Errors["base_url"], ReadOnly: readOnly,
		Help: "Leave empty: relaydesk derives it from the settings above. Set it for a proxy or a test server."})
	return out
}

func anyString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(t, 10)
	case int:
		return strconv.Itoa(t)
	}
	return ""
}

// routeForm is the route form, with the fields of the declarative file's
// routes.
type routeForm struct {
	AccountID, ConnectionID, Position string
	MatchKind, MatchValue             string
	ReopenWindow, Tags                string
	TemplateName, TemplateLanguage    string
	Errors                            map[string]string
	accountID, connectionID           int64
	position                          int
}

func routeFormFromRequest(c echo.Context) *routeForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return &routeForm{AccountID: v("account_id"), ConnectionID: v("connection_id"), Position: v("position"),
		MatchKind: v("match_kind"), MatchValue: v("match_value"), ReopenWindow: v("reopen_window"), Tags: v("tags"),
		TemplateName: v("template_name"), TemplateLanguage: v("template_language"), Errors: map[string]string{}}
}

func routeFormFrom(r store.RouteView) *routeForm {
	f := &routeForm{AccountID: strconv.FormatInt(r.AccountID, 10), ConnectionID: strconv.FormatInt(r.ConnectionID, 10),
		Position: strconv.Itoa(r.Position), MatchKind: r.Match.Kind, MatchValue: r.Match.Value,
		ReopenWindow: windowString(r.ReopenWindow), Tags: strings.Join(r.Tags, ", "), Errors: map[string]string{}}
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
func (f *routeForm) Validate(accounts []store.Account, conns []store.Connection) bool {
	var err error
	if f.accountID, err = strconv.ParseInt(f.AccountID, 10, 64); err != nil ||
		!slices.ContainsFunc(accounts, func(a store.Account) bool { return a.ID == f.accountID }) {
		f.Errors["account_id"] = "Choose the WhatsApp number."
	}
	if f.connectionID, err = strconv.ParseInt(f.ConnectionID, 10, 64); err != nil ||
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
	if f.TemplateLanguage != "" && !languageRe.MatchString(f.TemplateLanguage) {
		f.Errors["template_language"] = "Write the language code like en_US or de."
	}
	return len(f.Errors) == 0
}

// NewRoute converts a valid form.
func (f *routeForm) NewRoute() store.NewRoute {
	window, _ := config.ParseWindow(f.ReopenWindow)
	n := store.NewRoute{AccountID: f.accountID, ConnectionID: f.connectionID, Position: f.position,
		Match: store.RouteMatch{Kind: f.MatchKind, Value: f.MatchValue}, ReopenWindow: window, Tags: splitTags(f.Tags)}
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
func (f *routeForm) Fields(accounts []store.Account, conns []store.Connection, readOnly bool) []field {
	var accOpts, connOpts []option
	for _, a := range accounts {
		label := a.Name
		if a.DisplayPhoneNumber != "" {
			label += " (" + a.DisplayPhoneNumber + ")"
		}
		accOpts = append(accOpts, option{Value: strconv.FormatInt(a.ID, 10), Label: label, Selected: strconv.FormatInt(a.ID, 10) == f.AccountID})
	}
	for _, c := range conns {
		connOpts = append(connOpts, option{Value: strconv.FormatInt(c.ID, 10), Label: c.Name + " (" + c.Kind + ")",
			Selected: strconv.FormatInt(c.ID, 10) == f.ConnectionID})
	}
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
	}
	for i := range fs {
		fs[i].Error = f.Errors[fs[i].Name]
		fs[i].ReadOnly = readOnly
	}
	return fs
}
