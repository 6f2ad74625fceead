package config

import (
	"errors"
	"fmt"
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
	// Coexistence: the number is also used in the WhatsApp Business app
	// (sends capped at 20 per second).
	Coexistence bool `yaml:"coexistence"`
	// ReadPolicy is "off" (default) or "on_reply".
	ReadPolicy string `yaml:"read_policy"`
	Line       int    `yaml:"-"`
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
	WhatsApp             string       `yaml:"whatsapp"`
	Helpdesk             string       `yaml:"helpdesk"`
	Match                *RouteMatch  `yaml:"match"`
	ReopenWindow         string       `yaml:"reopen_window"`
	Tags                 []string     `yaml:"tags"`
	ReengagementTemplate *TemplateRef `yaml:"reengagement_template"`
	// StatusDisplay is how agents see their messages' WhatsApp status:
	// native (default), tag or off.
	StatusDisplay string        `yaml:"status_display"`
	Reopen        time.Duration `yaml:"-"`
	Line          int           `yaml:"-"`
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
// description; it returns an error for a kind no connector registered. Each
// problem it returns as a [KeyError] (alone or in errors.Join) is reported at
// the line of its key; any other error at the line of kind.
type KindChecker func(h HelpdeskEntry) error

// KeyError is a problem with one key of a helpdesk entry; Key is its path
// inside the entry, such as "settings.subdomain" or "credentials.api_token".
type KeyError struct {
	Key string
	Msg string
}

// Error implements error.
func (e KeyError) Error() string { return e.Key + ": " + e.Msg }

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
	"whatsapp":              {"name", "phone_number_id", "waba_id", "display_phone_number", "access_token", "app_secret", "verify_token", "graph_url", "graph_version", "send_rate", "coexistence", "read_policy"},
	"helpdesks":             {"name", "kind", "base_url", "settings", "credentials", "webhook_secret"},
	"routes":                {"whatsapp", "helpdesk", "match", "reopen_window", "tags", "reengagement_template", "status_display"},
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

// at returns the line of a dotted key path ("settings.subdomain") in the
// i-th entry of section: the deepest part of the path the file has, or the
// entry's line.
func at(doc *yaml.Node, section string, i int, path string) int {
	seq := child(doc, section)
	if seq == nil || i >= len(seq.Content) {
		return 0
	}
	n, line := seq.Content[i], seq.Content[i].Line
	for _, part := range strings.Split(path, ".") {
		if n == nil || n.Kind != yaml.MappingNode || part == "" {
			break
		}
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == part {
				line = n.Content[j].Line
			}
		}
		n = child(n, part)
	}
	return line
}

// flatten lists the errors errors.Join put together, or err alone.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
