package server

import (
	"errors"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
)

// connectionForm is a helpdesk connection form generated from the
// connector's Description: settings.<key> and credentials.<key> fields.
type connectionForm struct {
	desc        connectors.Description
	Name        string
	BaseURL     string
	Settings    map[string]any
	Credentials map[string]string // only the values typed; empty secrets keep the stored ones
	Errors      map[string]string
	saveAnyway  bool   // save even though the helpdesk cannot be reached
	tested      bool   // the helpdesk accepted the typed values (checkConnection)
	unreachable string // why the helpdesk could not be reached (checkConnection)
}

func settingName(f connectors.Field) string { return string(f.Group) + "." + f.Key }

func connectionFormFromRequest(c echo.Context, desc connectors.Description) *connectionForm {
	f := &connectionForm{desc: desc, Name: strings.TrimSpace(c.FormValue("name")), BaseURL: strings.TrimSpace(c.FormValue("base_url")),
		Settings: map[string]any{}, Credentials: map[string]string{}, Errors: map[string]string{},
		saveAnyway: c.FormValue(saveAnywayField) == "on"}
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
	err := f.desc.ValidateConnection(f.BaseURL, f.Settings, creds)
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
		f.Errors[f.fieldOf(err.Error())] = sentence(err.Error())
	}
	// Text PostgreSQL would not keep as typed (a NUL byte) is the field's error.
	for k, v := range f.Settings {
		if str, ok := v.(string); ok && !store.IsStorableText(str) {
			f.Errors[string(connectors.GroupSettings)+"."+k] = unstorableMessage
		}
	}
	for k, v := range f.Credentials {
		if !store.IsStorableText(v) {
			f.Errors[string(connectors.GroupCredentials)+"."+k] = unstorableMessage
		}
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
	if msg := f.Errors[saveAnywayField]; msg != "" {
		out = append(out, field{Name: saveAnywayField, Label: "Save anyway: " + f.desc.DisplayName + " cannot be reached now",
			Type: "checkbox", Error: msg})
	}
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
