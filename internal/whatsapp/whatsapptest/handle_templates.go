package whatsapptest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// SetTemplates replaces the template catalogue of the business account
// wabaID (served by GET /{waba-id}/message_templates, in pages of
// Options.TemplatePageSize). Once any catalogue is set, template sends from
// every number are checked against its own WABA's catalogue (see
// SetNumberWABA) as Graph checks them:
// an unknown name or language, or a template not approved, gets 132001
// (132015 paused, 132016 disabled), a wrong number of values 132000, a
// media header without media 132012.
func (s *Server) SetTemplates(wabaID string, templates ...whatsapp.TemplateInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[wabaID] = slices.Clone(templates)
}

// handleTemplates serves one page of a business account's catalogue, with
// Graph's paging object: cursors, and "next" while more pages follow.
func (s *Server) handleTemplates(x *exchange) {
	if !s.admit(x, specPathTemplates) {
		return
	}
	waba := x.segs[1]
	s.mu.Lock()
	all, ok := s.templates[waba]
	all = slices.Clone(all)
	s.mu.Unlock()
	if !ok && waba != FixtureWABAID {
		s.unknownObject(x, waba, "get")
		return
	}
	q := x.r.URL.Query()
	size := s.opts.TemplatePageSize
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n < size {
		size = n
	}
	start := 0
	if a := q.Get("after"); a != "" {
		raw, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(all) {
			s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid cursor: "+a, "")
			return
		}
		start = n
	}
	if name := q.Get("name"); name != "" {
		all = slices.DeleteFunc(all, func(t whatsapp.TemplateInfo) bool { return t.Name != name })
	}
	end := min(start+size, len(all))
	data := all[start:end]
	if data == nil {
		data = []whatsapp.TemplateInfo{}
	}
	cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
	paging := map[string]any{"cursors": map[string]any{"before": cursor(start), "after": cursor(end)}}
	if end < len(all) {
		next := *x.r.URL
		nq := next.Query()
		nq.Set("after", cursor(end))
		next.RawQuery = nq.Encode()
		paging["next"] = s.URL() + next.RequestURI()
	}
	writeJSON(x.w, http.StatusOK, map[string]any{"data": data, "paging": paging})
}

// wireTemplateSend is the template object of a send, as Graph reads it.
type wireTemplateSend struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []struct {
		Type       string `json:"type"`
		SubType    string `json:"sub_type"`
		Index      string `json:"index"`
		Parameters []struct {
			Type          string          `json:"type"`
			ParameterName string          `json:"parameter_name"`
			Text          string          `json:"text"`
			Image         json.RawMessage `json:"image"`
			Video         json.RawMessage `json:"video"`
			Document      json.RawMessage `json:"document"`
		} `json:"parameters"`
	} `json:"components"`
}

// templateError is Graph's answer to a template send it refuses.
type templateError struct {
	code           int
	message, extra string
}

// checkTemplateSend checks a template send from number pnid against the
// catalogue of that number's WABA (SetNumberWABA), not the others': a
// template another account approved is unknown here, as on Graph. It
// answers the error and reports false when Graph would refuse the send.
func (s *Server) checkTemplateSend(x *exchange, pnid string, body []byte) bool {
	s.mu.Lock()
	checking := len(s.templates) > 0
	catalogue := slices.Clone(s.templates[s.wabaOf(pnid)])
	s.mu.Unlock()
	if !checking {
		return true
	}
	var msg struct {
		Template wireTemplateSend `json:"template"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		s.graphError(x, http.StatusBadRequest, 100, 0, "(#100) Invalid parameter", err.Error())
		return false
	}
	if e := checkTemplate(catalogue, msg.Template); e != nil {
		status := http.StatusBadRequest
		if e.code == 132001 {
			status = http.StatusNotFound // as Graph answers an unknown template
		}
		s.graphError(x, status, e.code, 0, e.message, e.extra)
		return false
	}
	return true
}

// isAuthenticationTemplate reports whether a template send names a
// template of the AUTHENTICATION category in the catalogue.
func (s *Server) isAuthenticationTemplate(body []byte) bool {
	var msg struct {
		Template wireTemplateSend `json:"template"`
	}
	if json.Unmarshal(body, &msg) != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range s.templates {
		for _, t := range ts {
			if t.Name == msg.Template.Name && t.Language == msg.Template.Language.Code && strings.EqualFold(t.Category, "AUTHENTICATION") {
				return true
			}
		}
	}
	return false
}

func checkTemplate(catalogue []whatsapp.TemplateInfo, sent wireTemplateSend) *templateError {
	idx := slices.IndexFunc(catalogue, func(t whatsapp.TemplateInfo) bool {
		return t.Name == sent.Name && t.Language == sent.Language.Code
	})
	if idx < 0 {
		return &templateError{132001, "(#132001) Template name does not exist in the translation",
			fmt.Sprintf("template name (%s) does not exist in %s", sent.Name, sent.Language.Code)}
	}
	t := catalogue[idx]
	switch strings.ToUpper(t.Status) {
	case whatsapp.TemplateApproved:
	case "PAUSED":
		return &templateError{132015, "(#132015) Template is Paused", "Template is paused due to low quality."}
	case "DISABLED":
		return &templateError{132016, "(#132016) Template has been disabled", "Template is disabled due to low quality."}
	default:
		return &templateError{132001, "(#132001) Template name does not exist in the translation",
			fmt.Sprintf("template name (%s) is not approved in %s (status %s)", sent.Name, sent.Language.Code, t.Status)}
	}
	v := t.Vars()
	type given struct {
		texts []string
		names []string
		media string
	}
	var header, body given
	buttons := map[int]int{}
	for _, c := range sent.Components {
		var g *given
		switch c.Type {
		case whatsapp.ComponentHeader:
			g = &header
		case whatsapp.ComponentBody:
			g = &body
		case whatsapp.ComponentButton:
			i, err := strconv.Atoi(c.Index)
			if err != nil || i < 0 || i >= len(v.Buttons) {
				return &templateError{132000, "(#132000) Number of parameters does not match the expected number of params",
					fmt.Sprintf("button at index %s does not exist in the template", c.Index)}
			}
			buttons[i] = len(c.Parameters)
			continue
		default:
			continue
		}
		for _, p := range c.Parameters {
			switch p.Type {
			case whatsapp.ParamImage, whatsapp.ParamVideo, whatsapp.ParamDocument:
				g.media = strings.ToUpper(p.Type)
			default:
				g.texts = append(g.texts, p.Text)
				g.names = append(g.names, p.ParameterName)
			}
		}
	}
	if e := checkParams("header", v.Header, header.texts, header.names, v.Named); e != nil {
		return e
	}
	if e := checkParams("body", v.Body, body.texts, body.names, v.Named); e != nil {
		return e
	}
	if v.MediaHeader() && header.media != v.HeaderFormat {
		got := header.media
		if got == "" {
			got = "UNKNOWN"
		}
		return &templateError{132012, "(#132012) Parameter format does not match format in the created template",
			fmt.Sprintf("header: Format mismatch, expected %s, received %s", v.HeaderFormat, got)}
	}
	for _, b := range v.Buttons {
		if b.NeedsValue && buttons[b.Index] != 1 {
			return &templateError{132000, "(#132000) Number of parameters does not match the expected number of params",
				fmt.Sprintf("button at index %d of type Url requires a parameter", b.Index)}
		}
	}
	return nil
}

// checkParams compares the values of one component with its variables:
// their number, and for named templates their names.
func checkParams(component string, want, texts, names []string, named bool) *templateError {
	if len(texts) != len(want) {
		return &templateError{132000, "(#132000) Number of parameters does not match the expected number of params",
			fmt.Sprintf("%s: number of localizable_params (%d) does not match the expected number of params (%d)", component, len(texts), len(want))}
	}
	if !named {
		return nil
	}
	for i, n := range names {
		if !slices.Contains(want, n) {
			return &templateError{132000, "(#132000) Number of parameters does not match the expected number of params",
				fmt.Sprintf("%s: parameter %d names %q, which the template does not have", component, i, n)}
		}
	}
	return nil
}
