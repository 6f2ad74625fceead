package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/server/openapi"
	"github.com/relaydesk/relaydesk/web"
)

// problemTypes documents every problem type the API answers; the reference
// page gives each an anchor that the problems' type URLs point to.
var problemTypes = []struct{ Name, Status, Meaning string }{
	{"unauthorized", "401", "No access token was sent. Get one from /oauth/token and send it as Authorization: Bearer <token>."},
	{"invalid-token", "401", "The access token is unknown, expired or revoked (revocation takes effect at once). Get a new one."},
	{"insufficient-scope", "403", "The token lacks the scope named in the problem's scope member."},
	{"rate-limited", "429", "The application's or the number's rate limit is exhausted; wait Retry-After seconds."},
	{"invalid-request", "400", "A query parameter, cursor or body is malformed."},
	{"not-found", "404", "No such chat, message, contact, number or subscription, or it belongs to a number the application may not use."},
	{"no-media", "404", "The message has no media relaydesk can download (outbound media is sent by link)."},
	{"media-gone", "404", "WhatsApp no longer has the file (it keeps media for 30 days)."},
	{"graph-unavailable", "502", "WhatsApp's media service failed; retry later."},
	{"too-large", "413", "The request body is larger than 64 KiB."},
	{"invalid-message", "422", "The message is not valid (missing text, a non-https media link, a caption on audio...)."},
	{"outside-window", "422", "The customer's last message is more than 24 hours old, or they never wrote: only a template may be sent."},
	{"idempotency-key-reused", "422", "The Idempotency-Key was used in the last 24 hours with another request body."},
	{"idempotency-in-progress", "409", "The first request with this Idempotency-Key is still being processed."},
	{"invalid-subscription", "422", "The subscription's URL is not https, an event is unknown, or the application has 10 already."},
}

// apiDoc is the parsed OpenAPI document and what is served from it.
type apiDoc struct {
	doc  *openapi3.T
	json []byte
	etag string
	html []byte
}

var (
	apiDocOnce sync.Once
	apiDocVal  *apiDoc
	apiDocErr  error
)

// loadAPIDoc parses and validates the embedded OpenAPI document once.
func loadAPIDoc() (*apiDoc, error) {
	apiDocOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(openapi.YAML)
		if err != nil {
			apiDocErr = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			apiDocErr = fmt.Errorf("validate openapi.yaml: %w", err)
			return
		}
		b, err := json.Marshal(doc)
		if err != nil {
			apiDocErr = err
			return
		}
		sum := sha256.Sum256(b)
		d := &apiDoc{doc: doc, json: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if d.html, err = renderDocs(doc); err != nil {
			apiDocErr = err
			return
		}
		apiDocVal = d
	})
	return apiDocVal, apiDocErr
}

// docsPage returns the rendered reference page.
func docsPage() ([]byte, error) {
	d, err := loadAPIDoc()
	if err != nil {
		return nil, err
	}
	return d.html, nil
}

// openapiJSON serves the document.
func (s *Server) openapiJSON(c echo.Context) error {
	d, err := loadAPIDoc()
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", d.etag)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Access-Control-Allow-Origin", "*")
	if c.Request().Header.Get("If-None-Match") == d.etag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.json)
}

// apiDocs serves the reference page.
func (s *Server) apiDocs(c echo.Context) error {
	d, err := loadAPIDoc()
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.HTMLBlob(http.StatusOK, d.html)
}

// apiDocsCSS serves the reference page's stylesheet.
func (s *Server) apiDocsCSS(c echo.Context) error {
	b, err := fs.ReadFile(web.APITemplates, "docs.css")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", b)
}

// docsOperation is one operation on the reference page.
type docsOperation struct {
	Method, Path, Summary, Description, Anchor string
	Scopes                                     []string
	Public                                     bool
	Params                                     []docsParam
	Body                                       string
	Responses                                  []docsResponse
}

type docsParam struct{ Name, In, Type, Description string }

type docsResponse struct{ Status, Description, Schema string }

type docsTag struct {
	Name       string
	Operations []docsOperation
}

type docsSchema struct {
	Name, Description string
	Props             []docsProp
}

type docsProp struct {
	Name, Type, Description string
	Required                bool
}

type docsView struct {
	Title, Version, Description string
	Tags                        []docsTag
	Schemas                     []docsSchema
	Problems                    any
	Scopes                      []docsParam
}

// renderDocs builds the reference page from the document: every operation
// by tag, every schema, every problem type.
func renderDocs(doc *openapi3.T) ([]byte, error) {
	t, err := template.New("docs.html").Funcs(template.FuncMap{
		"paras": func(s string) []string {
			var out []string
			for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
				if p = strings.Join(strings.Fields(p), " "); p != "" {
					out = append(out, p)
				}
			}
			return out
		},
		"lower": strings.ToLower,
		"md":    inlineMarkdown,
	}).ParseFS(web.APITemplates, "docs.html")
	if err != nil {
		return nil, err
	}
	v := docsView{Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description, Problems: problemTypes}
	byTag := map[string]*docsTag{}
	var order []string
	for _, tg := range doc.Tags {
		byTag[tg.Name] = &docsTag{Name: tg.Name}
		order = append(order, tg.Name)
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for _, method := range []string{"GET", "POST", "DELETE", "PUT", "PATCH"} {
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			o := docsOperation{Method: method, Path: path, Summary: op.Summary, Description: op.Description,
				Anchor: strings.ToLower(op.OperationID)}
			if op.Security != nil && len(*op.Security) == 0 {
				o.Public = true
			}
			if op.Security != nil {
				for _, req := range *op.Security {
					for _, scopes := range req {
						o.Scopes = append(o.Scopes, scopes...)
					}
				}
			}
			for _, p := range op.Parameters {
				if p.Value == nil {
					continue
				}
				o.Params = append(o.Params, docsParam{Name: p.Value.Name, In: p.Value.In, Type: schemaType(p.Value.Schema),
					Description: p.Value.Description})
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					o.Body = ct + ": " + schemaType(mt.Schema)
				}
			}
			for code, r := range op.Responses.Map() {
				if r.Value == nil {
					continue
				}
				dr := docsResponse{Status: code, Description: deref(r.Value.Description)}
				for ct, mt := range r.Value.Content {
					dr.Schema = ct + ": " + schemaType(mt.Schema)
				}
				o.Responses = append(o.Responses, dr)
			}
			slices.SortFunc(o.Responses, func(a, b docsResponse) int { return strings.Compare(a.Status, b.Status) })
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			if byTag[tag] == nil {
				byTag[tag] = &docsTag{Name: tag}
				order = append(order, tag)
			}
			byTag[tag].Operations = append(byTag[tag].Operations, o)
		}
	}
	for _, name := range order {
		v.Tags = append(v.Tags, *byTag[name])
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sc := doc.Components.Schemas[name].Value
		ds := docsSchema{Name: name, Description: sc.Description}
		props := make([]string, 0, len(sc.Properties))
		for p := range sc.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		for _, p := range props {
			ds.Props = append(ds.Props, docsProp{Name: p, Type: schemaType(sc.Properties[p]),
				Description: sc.Properties[p].Value.Description, Required: slices.Contains(sc.Required, p)})
		}
		v.Schemas = append(v.Schemas, ds)
	}
	if ss := doc.Components.SecuritySchemes["oauth2"]; ss != nil && ss.Value.Flows != nil && ss.Value.Flows.ClientCredentials != nil {
		for name, desc := range ss.Value.Flows.ClientCredentials.Scopes {
			v.Scopes = append(v.Scopes, docsParam{Name: name, Description: desc})
		}
		slices.SortFunc(v.Scopes, func(a, b docsParam) int { return strings.Compare(a.Name, b.Name) })
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// schemaType describes a schema in a few words: its component name, or its
// type.
func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	if ref.Ref != "" {
		return ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	}
	s := ref.Value
	if s == nil {
		return ""
	}
	if s.Type != nil && s.Type.Is("array") && s.Items != nil {
		return "array of " + schemaType(s.Items)
	}
	if len(s.OneOf) > 0 {
		var parts []string
		for _, o := range s.OneOf {
			parts = append(parts, schemaType(o))
		}
		return strings.Join(parts, " or ")
	}
	if len(s.AllOf) > 0 {
		var parts []string
		for _, o := range s.AllOf {
			parts = append(parts, schemaType(o))
		}
		return strings.Join(parts, " + ")
	}
	if s.Type == nil {
		return "any"
	}
	out := strings.Join(s.Type.Slice(), " or ")
	if s.Format != "" {
		out += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, fmt.Sprint(e))
		}
		out += ": " + strings.Join(vals, ", ")
	}
	return out
}

var (
	mdCode   = regexp.MustCompile("`([^`]+)`")
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// inlineMarkdown renders the document's descriptions: HTML-escaped, with
// `code` and **strong** spans.
func inlineMarkdown(s string) template.HTML {
	out := template.HTMLEscapeString(s)
	out = mdCode.ReplaceAllString(out, "<code>$1</code>")
	out = mdStrong.ReplaceAllString(out, "<strong>$1</strong>")
	return template.HTML(out) //nolint:gosec // escaped above; only our own markup is added
}
