package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// validate checks the decoded file against the parsed document doc, which
// gives each problem its line, and sets the defaults.
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
			a.GraphVersion = whatsapp.DefaultVersion
		} else if !graphVersion.MatchString(a.GraphVersion) {
			fe.add(line("graph_version"), key("graph_version"), "must look like "+whatsapp.DefaultVersion)
		}
		if a.SendRate == 0 {
			a.SendRate = 80
		} else if a.SendRate < 0 || a.SendRate > 1000 {
			fe.add(line("send_rate"), key("send_rate"), "must be from 1 to 1000 messages per second")
		}
		switch a.ReadPolicy {
		case "":
			a.ReadPolicy = "off"
		case "off", "on_reply":
		default:
			fe.add(line("read_policy"), key("read_policy"), "must be off or on_reply")
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
			for _, err := range flatten(check(*h)) {
				var ke KeyError
				if errors.As(err, &ke) {
					fe.add(line(ke.Key), key(ke.Key), "%s", ke.Msg)
				} else {
					fe.add(line("kind"), key("kind"), "%s", err)
				}
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
		switch r.StatusDisplay {
		case "", "native", "tag", "off":
		default:
			fe.add(line("status_display"), key("status_display"), "must be native, tag or off")
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
