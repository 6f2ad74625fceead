package bridge

import (
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/msgconv"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// An agent sends a template from an ordinary public reply (docs/agents.md):
//
//	/template order_update en_US
//	1: Ana
//	2: A-1042
//	button 0: A-1042
//
// The first line names the template and its language; each further line is
// "variable: value" (a number for positional templates, a name for named
// ones), "header: value" for a text header's variable ("header name: value"
// in a named template) and "button N: value" for the URL button at index N
// (0-based) or a quick reply's payload. A media header takes the reply's
// one attached file.

// templateCommand starts a template reply.
const templateCommand = "/template"

// templateReply is a parsed template reply.
type templateReply struct {
	Name, Language string
	// Header and Body map variables to values ("1" or "first_name").
	Header, Body map[string]string
	// Buttons maps button indexes to values.
	Buttons map[int]string
	// Problems are lines that could not be read.
	Problems []string
}

var (
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>`)
	htmlTag   = regexp.MustCompile(`<[^>]*>`)
	// mdEscape is a Markdown editor's backslash before punctuation
	// ("order\_update").
	mdEscape = regexp.MustCompile(`\\([\\_*\[\]()#+\-.!{}` + "`" + `~>|])`)
	// buttonLine is "button 0: value".
	buttonLine = regexp.MustCompile(`(?i)^button\s*#?\s*(\d+)$`)
)

// plainLines turns a reply body as a helpdesk hands it over (plain text,
// Markdown, or HTML from a rich editor) into trimmed, non-empty lines.
func plainLines(body string) []string {
	if strings.Contains(body, "<") && htmlTag.MatchString(body) {
		body = htmlBreak.ReplaceAllString(body, "\n")
		body = htmlTag.ReplaceAllString(body, "")
		body = html.UnescapeString(body)
	}
	body = strings.NewReplacer("\u00a0", " ", "\r\n", "\n", "\r", "\n", "\u200b", "").Replace(body)
	var out []string
	for _, l := range strings.Split(body, "\n") {
		l = strings.TrimSpace(mdEscape.ReplaceAllString(l, "$1"))
		l = strings.TrimSpace(strings.TrimLeft(l, "*_`>")) // bold or quoted first line
		l = strings.TrimRight(l, "*_`")
		for _, bullet := range []string{"- ", "* ", "• "} {
			l = strings.TrimPrefix(l, bullet)
		}
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseTemplateReply reads a template reply; ok is false for a reply that
// is not one (it goes as text).
func parseTemplateReply(body string) (templateReply, bool) {
	lines := plainLines(body)
	if len(lines) == 0 {
		return templateReply{}, false
	}
	head := strings.Fields(lines[0])
	if len(head) == 0 || !strings.EqualFold(head[0], templateCommand) {
		return templateReply{}, false
	}
	r := templateReply{Header: map[string]string{}, Body: map[string]string{}, Buttons: map[int]string{}}
	switch len(head) {
	case 3:
		r.Name, r.Language = head[1], head[2]
	case 2:
		r.Name = head[1]
		r.Problems = append(r.Problems, "the first line names no language: write it after the template's name, for example \""+templateCommand+" "+head[1]+" en_US\"")
	default:
		r.Problems = append(r.Problems, "the first line must be \""+templateCommand+" <name> <language>\"")
		if len(head) > 1 {
			r.Name = head[1]
		}
	}
	for _, l := range lines[1:] {
		key, value, ok := strings.Cut(l, ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			r.Problems = append(r.Problems, fmt.Sprintf("the line %q is not \"variable: value\"", l))
			continue
		}
		target, name := r.Body, key
		lower := strings.ToLower(key)
		switch {
		case buttonLine.MatchString(key):
			i, _ := strconv.Atoi(buttonLine.FindStringSubmatch(key)[1])
			if _, dup := r.Buttons[i]; dup {
				r.Problems = append(r.Problems, fmt.Sprintf("button %d is given twice", i))
			}
			r.Buttons[i] = value
			continue
		case lower == "header":
			target, name = r.Header, "1"
		case strings.HasPrefix(lower, "header "):
			target, name = r.Header, strings.TrimSpace(key[len("header "):])
		case strings.HasPrefix(lower, "body "):
			name = strings.TrimSpace(key[len("body "):])
		}
		name = strings.Trim(name, "{} ")
		if _, dup := target[name]; dup {
			r.Problems = append(r.Problems, fmt.Sprintf("%q is given twice", key))
		}
		target[name] = value
	}
	return r, true
}

// templatePlan is a checked template reply, ready to send once the header's
// file (if any) is uploaded.
type templatePlan struct {
	tpl whatsapp.Template
	// headerFile is the attachment the media header takes; headerKind is
	// its parameter type (image, video, document).
	headerFile *connectors.RemoteAttachment
	headerKind string
}

// checkTemplateReply checks a template reply against the number's
// catalogue (found is false when the catalogue has no such template; all
// lists the catalogue). It returns the send, or the problems for the
// agent's note, which then says exactly what the template expects.
func checkTemplateReply(r templateReply, t *store.CatalogueTemplate, all []store.CatalogueTemplate, attachments []connectors.RemoteAttachment) (templatePlan, string) {
	var problems []string
	problems = append(problems, r.Problems...)
	if t == nil {
		problems = append(problems, unknownTemplate(r, all))
		return templatePlan{}, notSent(problems, "")
	}
	if !strings.EqualFold(t.Status, whatsapp.TemplateApproved) {
		problems = append(problems, fmt.Sprintf("WhatsApp has not approved it (its status is %s)", t.Status))
		return templatePlan{}, notSent(problems, "")
	}
	v := t.Vars()
	plan := templatePlan{tpl: whatsapp.Template{Name: t.Name, Language: t.Language}}
	headerParams, p := fill("header", v.Header, r.Header, v.Named)
	problems = append(problems, p...)
	bodyParams, p := fill("body", v.Body, r.Body, v.Named)
	problems = append(problems, p...)

	switch {
	case v.MediaHeader():
		want := strings.ToLower(v.HeaderFormat)
		switch len(attachments) {
		case 0:
			problems = append(problems, fmt.Sprintf("its header is %s: attach one %s file to the reply", article(want), want))
		case 1:
			a := attachments[0]
			if kind := msgconv.MediaKind(a.ContentType); kind != want {
				problems = append(problems, fmt.Sprintf("its header is %s, but the attached file %q is %s", article(want), a.Filename, article(kind)))
			} else {
				plan.headerFile, plan.headerKind = &attachments[0], want
			}
		default:
			problems = append(problems, fmt.Sprintf("its header takes one %s file, and the reply has %d attachments", want, len(attachments)))
		}
	case len(attachments) > 0:
		problems = append(problems, "it has no image, video or document header, so it cannot carry the attached file: remove the attachment, or send the file in a separate reply")
	}
	if len(headerParams) > 0 {
		plan.tpl.Components = append(plan.tpl.Components, whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Parameters: headerParams})
	}
	if len(bodyParams) > 0 {
		plan.tpl.Components = append(plan.tpl.Components, whatsapp.TemplateComponent{Type: whatsapp.ComponentBody, Parameters: bodyParams})
	}
	for _, i := range slices.Sorted(maps.Keys(r.Buttons)) {
		if i >= len(v.Buttons) {
			problems = append(problems, fmt.Sprintf("it has no button %d", i))
			continue
		}
		b := v.Buttons[i]
		switch {
		case b.NeedsValue:
			plan.tpl.Components = append(plan.tpl.Components, whatsapp.TemplateComponent{Type: whatsapp.ComponentButton,
				SubType: whatsapp.ButtonURL, Index: i, Parameters: []whatsapp.TemplateParameter{{Type: whatsapp.ParamText, Text: r.Buttons[i]}}})
		case b.Type == "QUICK_REPLY":
			plan.tpl.Components = append(plan.tpl.Components, whatsapp.TemplateComponent{Type: whatsapp.ComponentButton,
				SubType: whatsapp.ButtonQuickReply, Index: i, Parameters: []whatsapp.TemplateParameter{{Type: whatsapp.ParamPayload, Payload: r.Buttons[i]}}})
		default:
			problems = append(problems, fmt.Sprintf("button %d (%q) takes no value", i, b.Text))
		}
	}
	for _, b := range v.Buttons {
		if _, ok := r.Buttons[b.Index]; b.NeedsValue && !ok {
			problems = append(problems, fmt.Sprintf("button %d (%q) needs a value: \"button %d: ...\"", b.Index, b.Text, b.Index))
		}
	}
	if len(problems) > 0 {
		return templatePlan{}, notSent(problems, expects(*t))
	}
	return plan, ""
}

// fill turns the given values of one component into its parameters, in
// the template's order, reporting missing and extra ones.
func fill(component string, want []string, given map[string]string, named bool) ([]whatsapp.TemplateParameter, []string) {
	var params []whatsapp.TemplateParameter
	var problems []string
	for _, name := range want {
		value, ok := given[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("the %s variable {{%s}} has no value", component, name))
			continue
		case value == "":
			problems = append(problems, fmt.Sprintf("the %s variable {{%s}} is empty", component, name))
			continue
		}
		p := whatsapp.TemplateParameter{Type: whatsapp.ParamText, Text: value}
		if named {
			p.ParameterName = name
		}
		params = append(params, p)
	}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if !slices.Contains(want, name) {
			problems = append(problems, fmt.Sprintf("the %s has no variable {{%s}}", component, name))
		}
	}
	return params, problems
}

func article(kind string) string {
	switch kind {
	case "image":
		return "an image"
	case "":
		return "a file"
	}
	return "a " + kind
}

// unknownTemplate explains a template the catalogue does not have: other
// languages of the name, or the approved templates there are.
func unknownTemplate(r templateReply, all []store.CatalogueTemplate) string {
	if len(all) == 0 {
		return "relaydesk has no template catalogue for this WhatsApp number yet (an admin can read it with \"Refresh templates\" on the number's page)"
	}
	var langs, approved []string
	for _, t := range all {
		if t.Name == r.Name {
			langs = append(langs, t.Language)
		}
		if strings.EqualFold(t.Status, whatsapp.TemplateApproved) {
			approved = append(approved, t.Name+" "+t.Language)
		}
	}
	if len(langs) > 0 {
		return fmt.Sprintf("the template %q has no %q version; its languages are: %s", r.Name, r.Language, strings.Join(langs, ", "))
	}
	const most = 20
	more := ""
	if len(approved) > most {
		more = fmt.Sprintf(" (and %d more)", len(approved)-most)
		approved = approved[:most]
	}
	return fmt.Sprintf("this WhatsApp number has no template %q; its approved templates are: %s%s", r.Name, strings.Join(approved, ", "), more)
}

// notSent is the note for a template reply that was not sent.
func notSent(problems []string, expected string) string {
	var b strings.Builder
	b.WriteString("This template was NOT sent to the customer on WhatsApp: ")
	b.WriteString(strings.Join(problems, "; "))
	b.WriteString(".")
	if expected != "" {
		b.WriteString("\n\n")
		b.WriteString(expected)
	}
	return b.String()
}

// expects writes out the reply a template takes, with the catalogue's
// sample values.
func expects(t store.CatalogueTemplate) string {
	v := t.Vars()
	var b strings.Builder
	fmt.Fprintf(&b, "The template %s (%s) expects this reply:\n%s %s %s\n", t.Name, t.Language, templateCommand, t.Name, t.Language)
	headerEx, bodyEx := t.Examples("HEADER"), t.Examples("BODY")
	line := func(key, name string, ex map[string]string) {
		fmt.Fprintf(&b, "%s: ...", key)
		if e := ex[name]; e != "" {
			fmt.Fprintf(&b, "   (for example %s)", e)
		}
		b.WriteString("\n")
	}
	if v.MediaHeader() {
		fmt.Fprintf(&b, "(and %s attached to the reply, for its header)\n", article(strings.ToLower(v.HeaderFormat)))
	}
	for _, name := range v.Header {
		key := "header"
		if v.Named {
			key = "header " + name
		}
		line(key, name, headerEx)
	}
	for _, name := range v.Body {
		line(name, name, bodyEx)
	}
	for _, bt := range v.Buttons {
		if bt.NeedsValue {
			fmt.Fprintf(&b, "button %d: ...   (the end of the %q button's address)\n", bt.Index, bt.Text)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// TemplateReplyExample is the helpdesk reply that sends t, with its sample
// values, as the number's admin page shows it for agents to copy.
func TemplateReplyExample(t store.CatalogueTemplate) string { return expects(t) }

// TemplatePreview renders t's header, body and footer with the catalogue's
// sample values in brackets ("Hi [Ana], ..."); a variable without a sample
// stays {{1}}, and a media header is "[image]".
func TemplatePreview(t store.CatalogueTemplate) string {
	var parts []string
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			if f := strings.ToUpper(c.Format); f != "" && f != "TEXT" {
				parts = append(parts, "["+strings.ToLower(f)+"]")
				continue
			}
			parts = append(parts, previewText(c.Text, t.Examples("HEADER")))
		case "BODY":
			parts = append(parts, previewText(c.Text, t.Examples("BODY")))
		case "FOOTER":
			parts = append(parts, c.Text)
		case "BUTTONS":
			var bs []string
			for _, b := range c.Buttons {
				bs = append(bs, "("+b.Text+")")
			}
			parts = append(parts, strings.Join(bs, " "))
		}
	}
	return strings.Join(parts, "\n")
}

func previewText(text string, examples map[string]string) string {
	bracketed := map[string]string{}
	for k, v := range examples {
		bracketed[k] = "[" + v + "]"
	}
	return whatsapp.RenderTemplate(text, bracketed)
}
