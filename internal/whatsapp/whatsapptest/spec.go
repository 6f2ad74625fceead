package whatsapptest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Spec paths (templates) of the operations the fake serves.
const (
	specPathMessages  = "/{Version}/{Phone-Number-ID}/messages"
	specPathMedia     = "/{Version}/{Phone-Number-ID}/media"
	specPathPhone     = "/{Version}/{Phone-Number-ID}"
	specPathMediaID   = "/{Version}/{Media-ID}"
	specPathTemplates = "/{Version}/{WABA-ID}/message_templates"
)

// spec is the loaded, patched Graph description plus one router per served
// path. The description declares many paths that collide
// ("/{Version}/{Phone-Number-ID}" vs "/{Version}/{Media-ID}"...), which no
// router accepts, so each served path gets a router over a document holding
// only that path (sharing the components). The fake's own mux picks the
// operation; the router then matches the request against that path template
// and extracts the path parameters.
type spec struct {
	doc     *openapi3.T
	routers map[string]routers.Router
	// sendSchema is the request body schema of POST .../messages, used for
	// the unknown-field check.
	sendSchema *openapi3.Schema
}

type specEntry struct {
	once sync.Once
	spec *spec
	err  error
}

// specCache holds one loaded description per file path for the life of the
// process: loading the 1 MB YAML takes a noticeable fraction of a second.
var specCache sync.Map // path -> *specEntry

func loadSpec(path string) (*spec, error) {
	v, _ := specCache.LoadOrStore(path, &specEntry{})
	e := v.(*specEntry)
	e.once.Do(func() { e.spec, e.err = buildSpec(path) })
	return e.spec, e.err
}

// Validation options for the description as published: its examples do not
// all satisfy its own schemas, and components carry a non-standard
// "parameterGroups" member.
var docValidationOpts = []openapi3.ValidationOption{
	openapi3.DisableExamplesValidation(),
	openapi3.AllowExtraSiblingFields("parameterGroups"),
}

func buildSpec(path string) (*spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("whatsapptest: load %s: %w", path, err)
	}
	if err := patchSpec(doc); err != nil {
		return nil, fmt.Errorf("whatsapptest: patch %s: %w", path, err)
	}
	s := &spec{doc: doc, routers: map[string]routers.Router{}}
	for _, p := range []string{specPathMessages, specPathMedia, specPathPhone, specPathMediaID, specPathTemplates} {
		item := doc.Paths.Value(p)
		if item == nil {
			return nil, fmt.Errorf("whatsapptest: %s: path %s not found", path, p)
		}
		one := &openapi3.T{
			OpenAPI:    doc.OpenAPI,
			Info:       doc.Info,
			Components: doc.Components,
			Paths:      openapi3.NewPaths(openapi3.WithPath(p, item)),
		}
		r, err := legacy.NewRouter(one, docValidationOpts...)
		if err != nil {
			return nil, fmt.Errorf("whatsapptest: router for %s: %w", p, err)
		}
		s.routers[p] = r
	}
	s.sendSchema = doc.Paths.Value(specPathMessages).Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	return s, nil
}

// patchSpec fixes the published v23.0 description where it contradicts the
// API's documented behaviour (and its own examples), so that correct
// requests validate and wrong ones still fail. Each patch says why.
func patchSpec(doc *openapi3.T) error {
	schemas := doc.Components.Schemas
	get := func(name string) (*openapi3.Schema, error) {
		ref := schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("schema %s not found", name)
		}
		return ref.Value, nil
	}

	// 0. Since 2026 a send may name a customer who hides their phone by
	// business-scoped user id in "recipient" instead of "to" (Meta's
	// business-scoped user ids page; the v23.0 description predates it).
	// "to" is no longer required; handleMessages checks exactly one.
	base, err := get("BaseMessageProperties")
	if err != nil {
		return err
	}
	base.Required = slices.DeleteFunc(slices.Clone(base.Required), func(r string) bool { return r == "to" })
	base.Properties["recipient"] = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}})

	// 1. The send message variants (TextMessage, ImageMessage, ...) are
	// allOf[BaseMessageProperties, {additionalProperties: false, ...}]. Under
	// JSON Schema the closed branch rejects every base property
	// (messaging_product, to, ...), so every real request would fail. The
	// intent is clearly "no properties beyond base + own": merge such allOfs
	// into one closed object.
	for _, ref := range schemas {
		if ref.Value != nil {
			flattenClosedAllOf(ref.Value)
		}
	}

	// 2. The button index pattern "^[2-6, 11-14]$" is a malformed character
	// class that rejects "0", the index of the first button in every Meta
	// example. Drop it.
	walkSchemas(schemas, func(s *openapi3.Schema) {
		if s.Pattern == "^[2-6, 11-14]$" {
			s.Pattern = ""
		}
	})

	// 3. MediaObject (used by image/audio/video/document/sticker sends and
	// media template parameters) omits caption and filename, which the Cloud
	// API documents for image/video/document and document respectively.
	mediaObject, err := get("MediaObject")
	if err != nil {
		return err
	}
	if mediaObject.Properties == nil {
		mediaObject.Properties = openapi3.Schemas{}
	}
	maxCaption := uint64(1024)
	mediaObject.Properties["caption"] = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}, MaxLength: &maxCaption})
	mediaObject.Properties["filename"] = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}})

	// 4a. Template parameters of a template whose parameter_format is
	// NAMED carry parameter_name ({{first_name}} -> "first_name"), which
	// Meta's send-template guide documents and the description omits.
	paramObject, err := get("ParameterObject")
	if err != nil {
		return err
	}
	paramObject.Properties["parameter_name"] = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}})

	// 4. POST .../messages also takes the mark-as-read body (its own
	// examples include it; MarkMessageRequestPayload describes it) but the
	// request schema is only Message. Accept either.
	markRead := schemas["MarkMessageRequestPayload"]
	if markRead == nil {
		return errors.New("schema MarkMessageRequestPayload not found")
	}
	// 4b. The mark-as-read body takes typing_indicator {type: "text"} (the
	// description's own example "Send typing indicator and read receipt";
	// Meta's typing indicators page), which the schema omits.
	if markRead.Value != nil {
		if markRead.Value.Properties == nil {
			markRead.Value.Properties = openapi3.Schemas{}
		}
		markRead.Value.Properties["typing_indicator"] = openapi3.NewSchemaRef("", &openapi3.Schema{
			Type:       &openapi3.Types{"object"},
			Required:   []string{"type"},
			Properties: openapi3.Schemas{"type": openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}, Enum: []any{"text"}})},
		})
	}
	sendOp := doc.Paths.Value(specPathMessages).Post
	sendMedia := sendOp.RequestBody.Value.Content.Get("application/json")
	sendMedia.Schema = openapi3.NewSchemaRef("", &openapi3.Schema{
		OneOf: openapi3.SchemaRefs{sendMedia.Schema, markRead},
	})

	// 5. The media upload form requires a "type" field (the file's MIME
	// type) per Meta's media docs; the description omits it, and undeclared
	// multipart parts are rejected.
	uploadOp := doc.Paths.Value(specPathMedia).Post
	form := uploadOp.RequestBody.Value.Content.Get("multipart/form-data")
	if form == nil || form.Schema == nil || form.Schema.Value == nil {
		return errors.New("upload multipart schema not found")
	}
	form.Schema.Value.Properties["type"] = openapi3.NewSchemaRef("", &openapi3.Schema{Type: &openapi3.Types{"string"}})
	return nil
}

// flattenClosedAllOf merges s.AllOf into s when one of its branches sets
// additionalProperties: false. Later branches override earlier ones'
// property schemas (the closed branch narrows "type" to one enum value).
func flattenClosedAllOf(s *openapi3.Schema) {
	closed := false
	for _, br := range s.AllOf {
		if br.Value != nil && br.Value.AdditionalProperties.Has != nil && !*br.Value.AdditionalProperties.Has {
			closed = true
		}
	}
	if !closed {
		return
	}
	props := openapi3.Schemas{}
	var required []string
	seen := map[string]bool{}
	for _, br := range s.AllOf {
		if br.Value == nil {
			continue
		}
		for name, p := range br.Value.Properties {
			props[name] = p
		}
		for _, r := range br.Value.Required {
			if !seen[r] {
				seen[r] = true
				required = append(required, r)
			}
		}
	}
	no := false
	s.AllOf = nil
	s.Type = &openapi3.Types{"object"}
	s.Properties = props
	s.Required = required
	s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
}

// walkSchemas calls fn once for every schema reachable from schemas.
func walkSchemas(schemas openapi3.Schemas, fn func(*openapi3.Schema)) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		fn(s)
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, br := range group {
				walk(br)
			}
		}
	}
	for _, ref := range schemas {
		walk(ref)
	}
}

// validateRequest checks r (whose body is body) against the operation at
// specPath: path shape, parameters, headers, security and body. For sends
// it also rejects any JSON field the description does not declare.
func (s *spec) validateRequest(ctx context.Context, specPath string, r *http.Request, body []byte) error {
	router := s.routers[specPath]
	if router == nil {
		return fmt.Errorf("no route for %s", specPath)
	}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("route %s %s: %w", r.Method, r.URL.Path, err)
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			// The fake checks the bearer token itself, before validation,
			// so it can answer 401 like Graph does.
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		},
	}
	if err := openapi3filter.ValidateRequest(ctx, input); err != nil {
		return &validationError{err: err}
	}
	if specPath == specPathMessages && r.Method == http.MethodPost {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("body: %w", err)
		}
		if problems := checkUnknownFields(s.doc.Components.Schemas, s.sendSchema, v); len(problems) > 0 {
			return fmt.Errorf("body: %s", joinProblems(problems))
		}
	}
	return nil
}

func joinProblems(ps []string) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// validationError shortens kin-openapi's messages, which append the whole
// offending schema and value, to their first line.
type validationError struct{ err error }

func (e *validationError) Error() string {
	msg, _, _ := strings.Cut(e.err.Error(), "\n")
	return strings.TrimSpace(msg)
}

func (e *validationError) Unwrap() error { return e.err }
