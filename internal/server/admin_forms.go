package server

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
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
	if msg := plainText(name); msg != "" {
		return msg
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "Give it a name."
	case n > 64:
		return "Use at most 64 characters."
	}
	return ""
}

// unstorableMessage is the field error for a value with a NUL byte or bytes
// that are not UTF-8 text.
const unstorableMessage = "This contains a NUL byte or bytes that are not text: type or paste it again."

// plainText explains why a typed value cannot be kept as typed: it holds a
// control character (a NUL byte, a line break) or bytes that are not UTF-8
// text; "" when it is fine.
func plainText(s string) string {
	if !utf8.ValidString(s) {
		return "Use letters, digits, spaces and punctuation only: this contains bytes that are not text."
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "Use letters, digits, spaces and punctuation only: this contains a control character (such as a NUL byte or a line break)."
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
	// Coexistence: the number is also used in the WhatsApp Business app.
	Coexistence bool
	// ReadPolicy is store.ReadPolicyOff or store.ReadPolicyOnReply.
	ReadPolicy string
	Errors     map[string]string
}

func numberFormFromRequest(c echo.Context) *numberForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	return &numberForm{
		Name: v("name"), PhoneNumberID: v("phone_number_id"), WABAID: v("waba_id"), DisplayPhoneNumber: v("display_phone_number"),
		AccessToken: v("access_token"), AppSecret: v("app_secret"), VerifyToken: v("verify_token"),
		GraphURL: v("graph_url"), GraphVersion: v("graph_version"), SendRate: v("send_rate"),
		Coexistence: c.FormValue("coexistence") != "", ReadPolicy: v("read_policy"),
		Errors: map[string]string{},
	}
}

// numberFormFrom fills the form from a stored number (secrets stay empty).
func numberFormFrom(a store.Account) *numberForm {
	return &numberForm{
		Name: a.Name, PhoneNumberID: a.PhoneNumberID, WABAID: a.WABAID, DisplayPhoneNumber: a.DisplayPhoneNumber,
		GraphURL: a.GraphURL, GraphVersion: a.GraphVersion, SendRate: strconv.Itoa(a.SendRate), Errors: map[string]string{},
		Coexistence: a.Coexistence, ReadPolicy: a.ReadPolicy,
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
		f.GraphVersion = whatsapp.DefaultVersion
	} else if !graphVersionRe.MatchString(f.GraphVersion) {
		f.Errors["graph_version"] = "Write it like " + whatsapp.DefaultVersion + "."
	}
	switch f.ReadPolicy {
	case "":
		f.ReadPolicy = store.ReadPolicyOff
	case store.ReadPolicyOff, store.ReadPolicyOnReply:
	default:
		f.Errors["read_policy"] = "Choose one of the listed policies."
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
		Coexistence: f.Coexistence, ReadPolicy: f.ReadPolicy,
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
			Help:           "Any random text you also paste into Meta's webhook settings. Leave empty to have one generated; “Meta webhook” on this page shows it.",
			ShownElsewhere: true,
			Autocomplete:   "off"},
		{Name: "graph_url", Label: "Graph API URL", Type: "url", Value: f.GraphURL, Placeholder: "https://graph.facebook.com"},
		{Name: "graph_version", Label: "Graph API version", Type: "text", Value: f.GraphVersion, Placeholder: whatsapp.DefaultVersion,
			Help: "The version in every Graph call of this number. " + whatsapp.DefaultVersion +
				" is the current one; the number's page warns 90 days before the chosen version expires."},
		{Name: "send_rate", Label: "Send rate", Type: "number", Value: f.SendRate, Placeholder: "80",
			Help: "Messages per second this number may send (Meta's default throughput is 80)."},
		{Name: "coexistence", Label: "Coexistence number (also used in the WhatsApp Business app)", Type: "checkbox", Checked: f.Coexistence,
			Help: "Meta fixes a coexistence number's throughput at 20 messages per second: relaydesk then sends at most 20 per second, " +
				"whatever the send rate says, and waits (never fails) when the budget is used."},
		{Name: "read_policy", Label: "Read receipts and typing indicator", Type: "select", Options: []option{
			{Value: store.ReadPolicyOff, Label: "Off: never mark the customer's messages read", Selected: f.ReadPolicy != store.ReadPolicyOnReply},
			{Value: store.ReadPolicyOnReply, Label: "When an agent replies: mark the customer's last message read and show “typing…”, then send",
				Selected: f.ReadPolicy == store.ReadPolicyOnReply},
		}, Help: "Off is the default: blue ticks appear only when a person actually answers, never when relaydesk merely posted the message to the helpdesk."},
	}
	for i := range fs {
		fs[i].Error = f.Errors[fs[i].Name]
		fs[i].ReadOnly = readOnly
	}
	return fs
}

// writeFailed sorts the error of a store write made from a valid form. A
// conflict is put next to its field in errs and stop is false: the form is
// shown again. Otherwise stop is true and the handler returns err: the
// refusal of a change to a file-managed entry, or the failure itself.
func (s *Server) writeFailed(c echo.Context, err error, errs map[string]string) (stop bool, _ error) {
	var conflict *store.ConflictError
	switch {
	case errors.As(err, &conflict):
		errs[conflict.Field] = capitalize(conflict.Message) + "."
		return false, nil
	case errors.Is(err, store.ErrManagedByFile):
		return true, s.managedRefusal(c)
	}
	return true, err
}

// formInvalid shows a form page again (422) with its errors next to the
// fields.
func (s *Server) formInvalid(c echo.Context, name, section string, data any) error {
	return s.renderPage(c, http.StatusUnprocessableEntity, name, section, data,
		&store.Flash{Kind: "error", Message: "Please correct the fields marked below."})
}
