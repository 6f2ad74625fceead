package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Template catalogue values (GET /{waba-id}/message_templates).
const (
	// TemplateApproved is the status of a template that may be sent.
	TemplateApproved = "APPROVED"
	// FormatPositional and FormatNamed are parameter_format values:
	// {{1}}, {{2}}... or {{first_name}}.
	FormatPositional = "POSITIONAL"
	FormatNamed      = "NAMED"
)

// TemplateInfo is one template of a business account's catalogue, as Graph
// lists it.
type TemplateInfo struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Status   string `json:"status"`
	Category string `json:"category"`
	// ParameterFormat is FormatPositional (also when Graph leaves it out)
	// or FormatNamed.
	ParameterFormat string `json:"parameter_format,omitempty"`
	// Components is the template's definition: HEADER, BODY, FOOTER and
	// BUTTONS.
	Components []TemplateDef `json:"components"`
}

// TemplateDef is one component of a template's definition.
type TemplateDef struct {
	// Type is HEADER, BODY, FOOTER or BUTTONS.
	Type string `json:"type"`
	// Format is a header's TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION.
	Format  string              `json:"format,omitempty"`
	Text    string              `json:"text,omitempty"`
	Buttons []TemplateButtonDef `json:"buttons,omitempty"`
	Example *TemplateExample    `json:"example,omitempty"`
}

// TemplateButtonDef is a button of a template's BUTTONS component.
type TemplateButtonDef struct {
	// Type is QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE...
	Type    string   `json:"type"`
	Text    string   `json:"text,omitempty"`
	URL     string   `json:"url,omitempty"`
	Example []string `json:"example,omitempty"`
}

// TemplateExample holds a component's sample values.
type TemplateExample struct {
	HeaderText      []string       `json:"header_text,omitempty"`
	HeaderTextNamed []NamedExample `json:"header_text_named_params,omitempty"`
	HeaderHandle    []string       `json:"header_handle,omitempty"`
	BodyText        [][]string     `json:"body_text,omitempty"`
	BodyTextNamed   []NamedExample `json:"body_text_named_params,omitempty"`
}

// NamedExample is the sample value of a named variable.
type NamedExample struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// templatePageSize is how many templates one catalogue request asks for.
const templatePageSize = 100

// maxTemplatePages bounds a catalogue walk (a paging loop must end).
const maxTemplatePages = 200

// ListTemplates reads every template of the business account wabaID,
// following Graph's paging cursors until the last page.
func (c *Client) ListTemplates(ctx context.Context, wabaID string) ([]TemplateInfo, error) {
	if err := checkNotEmpty("business account id", wabaID); err != nil {
		return nil, err
	}
	var out []TemplateInfo
	after := ""
	for range maxTemplatePages {
		u := c.endpoint(wabaID, "message_templates")
		q := url.Values{}
		q.Set("fields", "id,name,language,status,category,components,parameter_format")
		q.Set("limit", strconv.Itoa(templatePageSize))
		if after != "" {
			q.Set("after", after)
		}
		u.RawQuery = q.Encode()
		var page struct {
			Data   []TemplateInfo `json:"data"`
			Paging struct {
				Cursors struct {
					After string `json:"after"`
				} `json:"cursors"`
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.doJSON(ctx, http.MethodGet, u, nil, &page); err != nil {
			return nil, err
		}
		for _, t := range page.Data {
			if t.ParameterFormat == "" {
				t.ParameterFormat = FormatPositional
			}
			out = append(out, t)
		}
		// Graph omits "next" on the last page; the cursor alone is not
		// proof of more.
		if page.Paging.Next == "" || page.Paging.Cursors.After == "" || page.Paging.Cursors.After == after {
			return out, nil
		}
		after = page.Paging.Cursors.After
	}
	return nil, fmt.Errorf("whatsapp: template catalogue of %s has more than %d pages", wabaID, maxTemplatePages)
}

// placeholder matches a template variable: {{1}} or {{first_name}}.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// Placeholders lists the variables of a template text in order of first
// appearance, without repeats.
func Placeholders(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// TemplateVars is what a send of a template must fill in.
type TemplateVars struct {
	// Named reports parameter_format NAMED.
	Named bool
	// HeaderFormat is the header's format (TEXT, IMAGE...), "" without a
	// header.
	HeaderFormat string
	// Header and Body are the variables of a text header and of the body.
	Header []string
	Body   []string
	// Buttons are the buttons, in order.
	Buttons []ButtonVar
}

// ButtonVar is one button of a template: URL buttons with a variable need
// a text value, quick replies take an optional payload.
type ButtonVar struct {
	Index int
	Type  string // QUICK_REPLY, URL, ...
	Text  string
	// NeedsValue reports a URL button whose address has a variable.
	NeedsValue bool
}

// MediaHeader reports whether the header is an image, video or document,
// which a send must supply.
func (v TemplateVars) MediaHeader() bool {
	switch v.HeaderFormat {
	case "IMAGE", "VIDEO", "DOCUMENT":
		return true
	}
	return false
}

// Vars says what a send of t must fill in.
func (t TemplateInfo) Vars() TemplateVars {
	v := TemplateVars{Named: strings.EqualFold(t.ParameterFormat, FormatNamed)}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			v.HeaderFormat = strings.ToUpper(c.Format)
			if v.HeaderFormat == "" {
				v.HeaderFormat = "TEXT"
			}
			if v.HeaderFormat == "TEXT" {
				v.Header = Placeholders(c.Text)
			}
		case "BODY":
			v.Body = Placeholders(c.Text)
		case "BUTTONS":
			for i, b := range c.Buttons {
				bt := strings.ToUpper(b.Type)
				v.Buttons = append(v.Buttons, ButtonVar{Index: i, Type: bt, Text: b.Text,
					NeedsValue: bt == "URL" && len(Placeholders(b.URL)) > 0})
			}
		}
	}
	return v
}

// Examples maps each variable of a component (HEADER or BODY) to its
// sample value, where the catalogue has one.
func (t TemplateInfo) Examples(component string) map[string]string {
	out := map[string]string{}
	for _, c := range t.Components {
		if !strings.EqualFold(c.Type, component) || c.Example == nil {
			continue
		}
		names := Placeholders(c.Text)
		var positional []string
		var named []NamedExample
		if strings.EqualFold(component, "HEADER") {
			positional, named = c.Example.HeaderText, c.Example.HeaderTextNamed
		} else {
			named = c.Example.BodyTextNamed
			if len(c.Example.BodyText) > 0 {
				positional = c.Example.BodyText[0]
			}
		}
		for i, name := range names {
			if i < len(positional) {
				out[name] = positional[i]
			}
		}
		for _, n := range named {
			out[n.ParamName] = n.Example
		}
	}
	return out
}

// RenderTemplate fills a template text's variables with values; a variable
// without a value is left as written.
func RenderTemplate(text string, values map[string]string) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		if v, ok := values[name]; ok {
			return v
		}
		return m
	})
}

// DecodeTemplateDefs decodes stored template components.
func DecodeTemplateDefs(raw []byte) ([]TemplateDef, error) {
	var out []TemplateDef
	if len(raw) == 0 {
		return nil, nil
	}
	err := json.Unmarshal(raw, &out)
	return out, err
}
