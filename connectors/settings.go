package connectors

import (
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// AuthMethod is a way to authenticate a connection.
type AuthMethod string

// The authentication methods.
const (
	// AuthAPIToken: a static API token (or key) entered in the settings form.
	AuthAPIToken AuthMethod = "api_token"
	// AuthOAuth2: the OAuth2 authorization-code flow (see [OAuth2Connector]).
	AuthOAuth2 AuthMethod = "oauth2"
)

// SettingAuthMethod is the settings key holding the chosen [AuthMethod] when
// a connector supports more than one. Descriptions list it as a select field.
const SettingAuthMethod = "auth_method"

// FieldType is the type of a settings form field.
type FieldType string

// The field types.
const (
	FieldString FieldType = "string" // free text
	FieldURL    FieldType = "url"    // absolute http(s) URL
	FieldEmail  FieldType = "email"  // email address
	FieldSecret FieldType = "secret" // password input, never shown again
	FieldBool   FieldType = "bool"   // checkbox
	FieldInt    FieldType = "int"    // whole number
	FieldSelect FieldType = "select" // one of Options
)

// FieldGroup says where a field's value is stored.
type FieldGroup string

// The field groups.
const (
	// GroupSettings: non-secret, stored in Config.Settings.
	GroupSettings FieldGroup = "settings"
	// GroupCredentials: stored encrypted, passed in Config.Credentials.
	GroupCredentials FieldGroup = "credentials"
)

// Option is one choice of a select field.
type Option struct {
	// Value is what is stored.
	Value string
	// Label is what the form shows.
	Label string
}

// Field describes one settings form field. The admin page renders forms from
// these descriptions with no per-connector template.
type Field struct {
	// Key is the settings or credentials map key.
	Key string
	// Label is the form label.
	Label string
	// Type is the input type.
	Type FieldType
	// Group says which map holds the value.
	Group FieldGroup
	// Required fields must be non-empty (for the auth methods they apply to).
	Required bool
	// Secret values are write-only: never shown back or logged.
	Secret bool
	// Help is a sentence shown under the field.
	Help string
	// Placeholder is the input's placeholder.
	Placeholder string
	// Options are the choices of a select field.
	Options []Option
	// Pattern, when set, is a regular expression a string value must match
	// in full.
	Pattern string
	// AuthMethods, when set, limits the field to these auth methods: it is
	// hidden and not validated for the others.
	AuthMethods []AuthMethod
	// BaseURLFormat, when set, marks the field that names the helpdesk's
	// address, and turns its value into the base URL with fmt.Sprintf
	// ("https://%s.zendesk.com"; "%s" for a URL field). A connection's base
	// URL stands for this field (see [Description.ValidateConnection]).
	BaseURLFormat string
}

// Description describes a connector kind: what the admin page shows and
// what config validation checks.
type Description struct {
	// Kind is the registry key, for example "zendesk".
	Kind string
	// DisplayName is the helpdesk's name, for example "Zendesk".
	DisplayName string
	// AuthMethods are the supported methods, preferred first.
	AuthMethods []AuthMethod
	// Fields are the settings and credentials, in form order.
	Fields []Field
	// WebhookHelp explains the manual steps to make the helpdesk send its
	// events to relaydesk, for when the connector cannot install its webhook
	// itself (or the admin prefers to).
	WebhookHelp string
}

// FieldError is one problem with one field.
type FieldError struct {
	// Group and Key name the field.
	Group FieldGroup
	Key   string
	// Message says what is wrong, without the value (it may be secret).
	Message string
}

// Error implements error.
func (e FieldError) Error() string { return string(e.Group) + "." + e.Key + ": " + e.Message }

// ValidationError lists every problem found by [Description.Validate].
type ValidationError []FieldError

// Error implements error.
func (v ValidationError) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Field returns the field with this key, if any.
func (d Description) Field(key string) (Field, bool) {
	for _, f := range d.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// AuthMethod returns the auth method the settings select: the value of
// [SettingAuthMethod], or the preferred method when it is absent.
func (d Description) AuthMethod(settings map[string]any) AuthMethod {
	if v, ok := settings[SettingAuthMethod].(string); ok && v != "" {
		return AuthMethod(v)
	}
	if len(d.AuthMethods) > 0 {
		return d.AuthMethods[0]
	}
	return ""
}

// Validate checks settings and credentials against the description and
// returns every problem at once as a [ValidationError], or nil. Unknown keys
// are problems too, so a typo in a config file is reported, not ignored.
// Messages never include values.
func (d Description) Validate(settings map[string]any, credentials map[string]string) error {
	return d.validate(settings, credentials, false, "")
}

// validate is Validate; optionalAddress lets the address field be left out,
// and addressHint is appended to its "is required".
func (d Description) validate(settings map[string]any, credentials map[string]string, optionalAddress bool, addressHint string) error {
	var errs ValidationError
	method := d.AuthMethod(settings)
	if !slices.Contains(d.AuthMethods, method) {
		errs = append(errs, FieldError{GroupSettings, SettingAuthMethod, fmt.Sprintf("unsupported auth method %q", method)})
	}
	known := map[FieldGroup]map[string]bool{GroupSettings: {}, GroupCredentials: {}}
	for _, f := range d.Fields {
		known[f.Group][f.Key] = true
		if len(f.AuthMethods) > 0 && !slices.Contains(f.AuthMethods, method) {
			continue
		}
		var v any
		var present bool
		if f.Group == GroupCredentials {
			s, ok := credentials[f.Key]
			v, present = s, ok && s != ""
		} else {
			v, present = settings[f.Key]
			present = present && !isEmpty(v)
		}
		if !present {
			switch {
			case f.BaseURLFormat != "" && optionalAddress:
			case f.BaseURLFormat != "" && f.Required:
				errs = append(errs, FieldError{f.Group, f.Key, "is required" + addressHint})
			case f.Required:
				errs = append(errs, FieldError{f.Group, f.Key, "is required"})
			}
			continue
		}
		if msg := f.check(v); msg != "" {
			errs = append(errs, FieldError{f.Group, f.Key, msg})
		}
	}
	for _, k := range sortedKeys(settings) {
		if !known[GroupSettings][k] {
			errs = append(errs, FieldError{GroupSettings, k, "unknown setting"})
		}
	}
	for _, k := range sortedKeys(credentials) {
		if !known[GroupCredentials][k] {
			errs = append(errs, FieldError{GroupCredentials, k, "unknown credential"})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// ValidateConnection is [Description.Validate] for a connection whose base
// URL is baseURL: a valid http(s) base URL stands for the address field (the
// one with a BaseURLFormat), which is then optional. Without a base URL the
// address field stays required, and its message says base_url would do.
func (d Description) ValidateConnection(baseURL string, settings map[string]any, credentials map[string]string) error {
	if validBaseURL(baseURL) {
		return d.validate(settings, credentials, true, "")
	}
	return d.validate(settings, credentials, false, " (or give the connection's base_url)")
}

// AddressField returns the field that names the helpdesk's address (the one
// with a BaseURLFormat), if the description has one.
func (d Description) AddressField() (Field, bool) {
	i := slices.IndexFunc(d.Fields, func(f Field) bool { return f.BaseURLFormat != "" })
	if i < 0 {
		return Field{}, false
	}
	return d.Fields[i], true
}

// BaseURL returns the helpdesk's base URL: baseURL when it is set, else the
// address field's value through its BaseURLFormat, else "".
func (d Description) BaseURL(baseURL string, settings map[string]any) string {
	if baseURL != "" {
		return baseURL
	}
	return d.settingURL(settings)
}

// settingURL is the base URL the address field alone gives, or "".
func (d Description) settingURL(settings map[string]any) string {
	f, ok := d.AddressField()
	if !ok || AsString(settings[f.Key]) == "" {
		return ""
	}
	return fmt.Sprintf(f.BaseURLFormat, AsString(settings[f.Key]))
}

// CheckAddress reports a base URL and an address field that name different
// helpdesks, as a [ValidationError] on the field, or nil. A configuration
// gives the address once; when it gives both, they must agree.
func (d Description) CheckAddress(baseURL string, settings map[string]any) error {
	f, _ := d.AddressField()
	own := d.settingURL(settings)
	if baseURL == "" || own == "" || strings.TrimRight(own, "/") == strings.TrimRight(baseURL, "/") {
		return nil
	}
	return ValidationError{{f.Group, f.Key, fmt.Sprintf("names %s but base_url is %s: give the address once", own, baseURL)}}
}

func validBaseURL(s string) bool {
	u, err := url.Parse(s)
	return s != "" && err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// check validates one present value and returns a problem, or "".
func (f Field) check(v any) string {
	switch f.Type {
	case FieldBool:
		if _, ok := AsBool(v); !ok {
			return "must be true or false"
		}
		return ""
	case FieldInt:
		if _, ok := AsInt(v); !ok {
			return "must be a whole number"
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		return "must be text"
	}
	switch f.Type {
	case FieldURL:
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "must be an absolute http(s) URL"
		}
	case FieldEmail:
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return "must be an email address"
		}
	case FieldSelect:
		if !slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == s }) {
			return "must be one of " + optionValues(f.Options)
		}
	}
	if f.Pattern != "" {
		if re := fieldPattern(f.Pattern); re != nil && !re.MatchString(s) {
			return "has an invalid format"
		}
	}
	return ""
}

// patterns caches compiled field patterns: validation runs every time a
// connector is built, which is once per job.
var patterns sync.Map // pattern -> *regexp.Regexp (nil when it does not compile)

func fieldPattern(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		re = nil
	}
	patterns.Store(p, re)
	return re
}

func optionValues(opts []Option) string {
	vals := make([]string, len(opts))
	for i, o := range opts {
		vals[i] = strconv.Quote(o.Value)
	}
	return strings.Join(vals, ", ")
}

// AsBool reads a boolean setting: a bool, or a string strconv.ParseBool
// accepts (forms and environment variables give strings).
func AsBool(v any) (bool, bool) {
	switch b := v.(type) {
	case bool:
		return b, true
	case string:
		p, err := strconv.ParseBool(strings.TrimSpace(b))
		return p, err == nil
	}
	return false, false
}

// AsInt reads a whole-number setting: any Go integer, a float64 without a
// fraction (JSON numbers), or a decimal string.
func AsInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), n <= math.MaxInt64
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case string:
		p, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		return p, err == nil
	}
	return 0, false
}

// AsString reads a text setting; non-strings give "".
func AsString(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// check validates the description itself; Register panics on its error.
func (d Description) check() error {
	if d.Kind == "" || d.Kind != strings.ToLower(d.Kind) || strings.ContainsAny(d.Kind, " /") {
		return fmt.Errorf("kind %q must be a non-empty lowercase word", d.Kind)
	}
	if len(d.AuthMethods) == 0 {
		return fmt.Errorf("%s: no auth methods", d.Kind)
	}
	seen := map[string]bool{}
	for _, f := range d.Fields {
		switch f.Type {
		case FieldString, FieldURL, FieldEmail, FieldSecret, FieldBool, FieldInt, FieldSelect:
		default:
			return fmt.Errorf("%s: field %q: unknown type %q", d.Kind, f.Key, f.Type)
		}
		if f.Group != GroupSettings && f.Group != GroupCredentials {
			return fmt.Errorf("%s: field %q: unknown group %q", d.Kind, f.Key, f.Group)
		}
		if f.Key == "" || seen[string(f.Group)+"."+f.Key] {
			return fmt.Errorf("%s: field %q: empty or duplicate key", d.Kind, f.Key)
		}
		seen[string(f.Group)+"."+f.Key] = true
		if (f.Secret || f.Type == FieldSecret) && f.Group != GroupCredentials {
			return fmt.Errorf("%s: field %q: secrets belong in credentials", d.Kind, f.Key)
		}
		if f.Type == FieldSelect && len(f.Options) == 0 {
			return fmt.Errorf("%s: field %q: select without options", d.Kind, f.Key)
		}
		if f.Pattern != "" {
			if _, err := regexp.Compile(f.Pattern); err != nil {
				return fmt.Errorf("%s: field %q: bad pattern: %w", d.Kind, f.Key, err)
			}
		}
	}
	return nil
}
