package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is the declarative configuration named by RELAYDESK_CONFIG. Entries are
// upserted by name at every start; entries removed from the file are left in
// the database untouched.
type File struct {
	Path      string
	WhatsApp  []WhatsAppEntry `yaml:"whatsapp"`
	Helpdesks []HelpdeskEntry `yaml:"helpdesks"`
	Routes    []RouteEntry    `yaml:"routes"`
}

// WhatsAppEntry is one business phone number.
type WhatsAppEntry struct {
	Name               string `yaml:"name"`
	PhoneNumberID      string `yaml:"phone_number_id"`
	WABAID             string `yaml:"waba_id"`
	DisplayPhoneNumber string `yaml:"display_phone_number"`
	AccessToken        string `yaml:"access_token"`
	AppSecret          string `yaml:"app_secret"`
	VerifyToken        string `yaml:"verify_token"`
	GraphURL           string `yaml:"graph_url"`
	GraphVersion       string `yaml:"graph_version"`
	SendRate           int    `yaml:"send_rate"`
	Line               int    `yaml:"-"`
}

// HelpdeskEntry is one helpdesk connection.
type HelpdeskEntry struct {
	Name          string            `yaml:"name"`
	Kind          string            `yaml:"kind"`
	BaseURL       string            `yaml:"base_url"`
	Settings      map[string]any    `yaml:"settings"`
	Credentials   map[string]string `yaml:"credentials"`
	WebhookSecret string            `yaml:"webhook_secret"`
	Line          int               `yaml:"-"`
}

// RouteEntry sends a number's conversations to a helpdesk.
type RouteEntry struct {
	WhatsApp             string        `yaml:"whatsapp"`
	Helpdesk             string        `yaml:"helpdesk"`
	Match                *RouteMatch   `yaml:"match"`
	ReopenWindow         string        `yaml:"reopen_window"`
	Tags                 []string      `yaml:"tags"`
	ReengagementTemplate *TemplateRef  `yaml:"reengagement_template"`
	Reopen               time.Duration `yaml:"-"`
	Line                 int           `yaml:"-"`
}

// RouteMatch is a routing rule: default (always), country (the customer's
// country calling code) or keyword (in the first message).
type RouteMatch struct {
	Kind  string `yaml:"kind"`
	Value string `yaml:"value"`
}

// TemplateRef names an approved WhatsApp message template.
type TemplateRef struct {
	Name     string `yaml:"name"`
	Language string `yaml:"language"`
}

// KindChecker validates a helpdesk entry against its connector's settings
// description; it returns an error for a kind no connector registered.
type KindChecker func(kind string, settings map[string]any, credentials map[string]string) error

const (
	envPlaceholderPrefix = "__relaydesk_env__"
	envPlaceholderSuffix = "__end__"
)

// DefaultReopenWindow applies when a route does not set reopen_window.
const DefaultReopenWindow = 72 * time.Hour

var (
	envRef         = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	envPlaceholder = regexp.MustCompile(envPlaceholderPrefix + `([A-Za-z_][A-Za-z0-9_]*)` + envPlaceholderSuffix)
	digits         = regexp.MustCompile(`^[0-9]+$`)
	graphVersion   = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
	yamlLine       = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// LoadFile reads, expands and validates the declarative file. Every problem is
// reported with the file name, line and key.
func LoadFile(path string, getenv Getenv, check KindChecker) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseFile(path, data, getenv, check)
}

// ParseFile is LoadFile on bytes already read.
func ParseFile(path string, data []byte, getenv Getenv, check KindChecker) (*File, error) {
	fe := &FileErrors{Path: path}

	// ${VAR} is not valid YAML inside a flow mapping ({api_token: ${X}}), so
	// references become plain placeholders before parsing and are expanded in
	// the parsed scalars, which keeps line numbers and never lets a value's
	// characters change the document's structure.
	data = envRef.ReplaceAll(data, []byte(envPlaceholderPrefix+"${1}"+envPlaceholderSuffix))
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		fe.addYAML(err)
		return nil, fe
	}
	f := &File{Path: path}
	if root.Kind == 0 { // empty file
		return f, nil
	}
	expandEnv(&root, getenv, fe)

	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	// A misspelled key must be an error, not a silent no-op.
	checkKeys(doc, fe)
	if err := doc.Decode(f); err != nil {
		fe.addYAML(err)
	}
	if len(fe.Problems) > 0 {
		return nil, fe
	}
	f.Path = path
	f.validate(doc, check, fe)
	if len(fe.Problems) > 0 {
		return nil, fe
	}
	return f, nil
}

// FileProblem is one problem in the declarative file.
type FileProblem struct {
	Line int
	Key  string
	Msg  string
}

// FileErrors lists every problem found in the declarative file.
type FileErrors struct {
	Path     string
	Problems []FileProblem
}

func (e *FileErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration file %s:", e.Path)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s:%d: ", e.Path, p.Line)
		if p.Key != "" {
			b.WriteString(p.Key)
			b.WriteString(": ")
		}
		b.WriteString(p.Msg)
	}
	return b.String()
}

func (e *FileErrors) add(line int, key, format string, args ...any) {
	e.Problems = append(e.Problems, FileProblem{Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// addYAML turns the yaml package's "line N: ..." messages into problems.
func (e *FileErrors) addYAML(err error) {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	for _, m := range msgs {
		line := 0
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		e.add(line, "", "%s", m)
	}
}

// allowedKeys lists the keys of each level of the file.
var allowedKeys = map[string][]string{
	"":                      {"whatsapp", "helpdesks", "routes"},
	"whatsapp":              {"name", "phone_number_id", "waba_id", "display_phone_number", "access_token", "app_secret", "verify_token", "graph_url", "graph_version", "send_rate"},
	"helpdesks":             {"name", "kind", "base_url", "settings", "credentials", "webhook_secret"},
	"routes":                {"whatsapp", "helpdesk", "match", "reopen_window", "tags", "reengagement_template"},
	"match":                 {"kind", "value"},
	"reengagement_template": {"name", "language"},
}

// checkKeys reports keys the file format does not have, with their lines.
func checkKeys(doc *yaml.Node, fe *FileErrors) {
	if doc.Kind != yaml.MappingNode {
		fe.add(doc.Line, "", "the file must be a mapping with whatsapp, helpdesks and routes")
		return
	}
	var walk func(m *yaml.Node, level, path string)
	walk = func(m *yaml.Node, level, path string) {
		if m.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if !slices.Contains(allowedKeys[level], k.Value) {
				fe.add(k.Line, path+k.Value, "unknown key (expected one of: %s)", strings.Join(allowedKeys[level], ", "))
				continue
			}
			switch {
			case level == "" && v.Kind == yaml.SequenceNode:
				for j, e := range v.Content {
					walk(e, k.Value, fmt.Sprintf("%s[%d].", k.Value, j))
				}
			case level == "routes" && (k.Value == "match" || k.Value == "reengagement_template"):
				walk(v, k.Value, path+k.Value+".")
			}
		}
	}
	walk(doc, "", "")
}

// expandEnv replaces ${VAR} in every scalar with the variable's value.
func expandEnv(n *yaml.Node, getenv Getenv, fe *FileErrors) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, envPlaceholderPrefix) {
		n.Value = envPlaceholder.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := envPlaceholder.FindStringSubmatch(ref)[1]
			v := getenv(name)
			if v == "" {
				fe.add(n.Line, "", "${%s} refers to environment variable %s, which is not set", name, name)
			}
			return v
		})
		n.Tag = "!!str"
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		expandEnv(c, getenv, fe)
	}
}

// child returns the value node of key in a mapping node.
func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// at returns the line of key in the i-th entry of section, or the entry's line.
func at(doc *yaml.Node, section string, i int, key string) int {
	seq := child(doc, section)
	if seq == nil || i >= len(seq.Content) {
		return 0
	}
	entry := seq.Content[i]
	if key != "" {
		if m := entry; m.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(m.Content); j += 2 {
				if m.Content[j].Value == key {
					return m.Content[j].Line
				}
			}
		}
	}
	return entry.Line
}

func (f *File) validate(doc *yaml.Node, check KindChecker, fe *FileErrors) {
	accounts := map[string]bool{}
	phoneIDs := map[string]bool{}
	for i := range f.WhatsApp {
		a := &f.WhatsApp[i]
		a.Line = at(doc, "whatsapp", i, "")
		key := func(k string) string { return fmt.Sprintf("whatsapp[%d].%s", i, k) }
		line := func(k string) int { return at(doc, "whatsapp", i, k) }
		required := map[string]string{
			"name": a.Name, "phone_number_id": a.PhoneNumberID, "waba_id": a.WABAID,
			"access_token": a.AccessToken, "app_secret": a.AppSecret, "verify_token": a.VerifyToken,
		}
		for _, k := range []string{"name", "phone_number_id", "waba_id", "access_token", "app_secret", "verify_token"} {
			if strings.TrimSpace(required[k]) == "" {
				fe.add(line(k), key(k), "is required")
			}
		}
		if a.Name != "" {
			if accounts[a.Name] {
				fe.add(line("name"), key("name"), "%q is used by another whatsapp entry", a.Name)
			}
			accounts[a.Name] = true
		}
		if a.PhoneNumberID != "" {
			if !digits.MatchString(a.PhoneNumberID) {
				fe.add(line("phone_number_id"), key("phone_number_id"), "must be the numeric id Meta shows in WhatsApp Manager")
			}
			if phoneIDs[a.PhoneNumberID] {
				fe.add(line("phone_number_id"), key("phone_number_id"), "%s is used by another whatsapp entry", a.PhoneNumberID)
			}
			phoneIDs[a.PhoneNumberID] = true
		}
		if a.WABAID != "" && !digits.MatchString(a.WABAID) {
			fe.add(line("waba_id"), key("waba_id"), "must be numeric")
		}
		if a.GraphURL == "" {
			a.GraphURL = "https://graph.facebook.com"
		} else if u, err := url.Parse(a.GraphURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe.add(line("graph_url"), key("graph_url"), "must be an http(s) URL such as https://graph.facebook.com")
		}
		if a.GraphVersion == "" {
			a.GraphVersion = "v23.0"
		} else if !graphVersion.MatchString(a.GraphVersion) {
			fe.add(line("graph_version"), key("graph_version"), "must look like v23.0")
		}
		if a.SendRate == 0 {
			a.SendRate = 80
		} else if a.SendRate < 0 || a.SendRate > 1000 {
			fe.add(line("send_rate"), key("send_rate"), "must be from 1 to 1000 messages per second")
		}
	}

	helpdesks := map[string]bool{}
	for i := range f.Helpdesks {
		h := &f.Helpdesks[i]
		h.Line = at(doc, "helpdesks", i, "")
		key := func(k string) string { return fmt.Sprintf("helpdesks[%d].%s", i, k) }
		line := func(k string) int { return at(doc, "helpdesks", i, k) }
		if h.Name == "" {
			fe.add(line("name"), key("name"), "is required")
		} else {
			if helpdesks[h.Name] {
				fe.add(line("name"), key("name"), "%q is used by another helpdesk entry", h.Name)
			}
			helpdesks[h.Name] = true
		}
		if h.BaseURL != "" {
			if u, err := url.Parse(h.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				fe.add(line("base_url"), key("base_url"), "must be an http(s) URL")
			}
		}
		if h.Settings == nil {
			h.Settings = map[string]any{}
		}
		if h.Credentials == nil {
			h.Credentials = map[string]string{}
		}
		switch {
		case h.Kind == "":
			fe.add(line("kind"), key("kind"), "is required")
		case check != nil:
			if err := check(h.Kind, h.Settings, h.Credentials); err != nil {
				fe.add(line("kind"), key("kind"), "%s", err)
			}
		}
	}

	type pair struct{ a, h string }
	seen := map[pair]bool{}
	for i := range f.Routes {
		r := &f.Routes[i]
		r.Line = at(doc, "routes", i, "")
		key := func(k string) string { return fmt.Sprintf("routes[%d].%s", i, k) }
		line := func(k string) int { return at(doc, "routes", i, k) }
		switch {
		case r.WhatsApp == "":
			fe.add(line("whatsapp"), key("whatsapp"), "is required")
		case !accounts[r.WhatsApp]:
			fe.add(line("whatsapp"), key("whatsapp"), "no whatsapp entry is named %q", r.WhatsApp)
		}
		switch {
		case r.Helpdesk == "":
			fe.add(line("helpdesk"), key("helpdesk"), "is required")
		case !helpdesks[r.Helpdesk]:
			fe.add(line("helpdesk"), key("helpdesk"), "no helpdesk entry is named %q", r.Helpdesk)
		}
		if seen[pair{r.WhatsApp, r.Helpdesk}] {
			fe.add(r.Line, key("helpdesk"), "another route already joins %q and %q", r.WhatsApp, r.Helpdesk)
		}
		seen[pair{r.WhatsApp, r.Helpdesk}] = true
		r.Reopen = DefaultReopenWindow
		if r.ReopenWindow != "" {
			d, err := ParseWindow(r.ReopenWindow)
			if err != nil {
				fe.add(line("reopen_window"), key("reopen_window"), "must be a duration such as 72h, 3d or 0 (never reopen)")
			}
			r.Reopen = d
		}
		if m := r.Match; m != nil {
			switch m.Kind {
			case "", "default":
				m.Kind = "default"
			case "country":
				if !digits.MatchString(m.Value) || len(m.Value) > 3 {
					fe.add(line("match"), key("match.value"), "a country rule needs the calling code digits, e.g. \"49\"")
				}
			case "keyword":
				if strings.TrimSpace(m.Value) == "" {
					fe.add(line("match"), key("match.value"), "a keyword rule needs a keyword")
				}
			default:
				fe.add(line("match"), key("match.kind"), "must be default, country or keyword")
			}
		}
		if t := r.ReengagementTemplate; t != nil && (t.Name == "" || t.Language == "") {
			fe.add(line("reengagement_template"), key("reengagement_template"), "needs both name and language (e.g. {name: hello_world, language: en_US})")
		}
	}
}

// ParseWindow parses a reopen window: a Go duration, or whole days as "3d".
func ParseWindow(s string) (time.Duration, error) {
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad window %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad window %q", s)
	}
	return d, nil
}
