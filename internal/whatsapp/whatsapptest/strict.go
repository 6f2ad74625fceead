package whatsapptest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Most of the Graph description's schemas do not set
// additionalProperties: false, and several nest their real shape behind a
// discriminator without oneOf (TemplateComponent, ParameterObject), which
// schema validation does not follow. So schema validation alone accepts a
// misspelled field almost anywhere. checkUnknownFields closes that gap: it
// walks a JSON value alongside its schema and reports every object member
// that no applicable schema declares. "Applicable" is generous (the union of
// allOf/anyOf/oneOf branches; a discriminator narrows to the mapped schema),
// so it never rejects a field the description allows somewhere for that
// object, and only objects whose schema declares no properties at all, or
// allows additional ones, are free-form.

const maxStrictDepth = 32

type candidates struct {
	props    map[string][]*openapi3.Schema
	items    []*openapi3.Schema
	freeForm bool
	declared bool
}

func checkUnknownFields(components openapi3.Schemas, root *openapi3.Schema, value any) []string {
	var problems []string
	walkValue(components, []*openapi3.Schema{root}, value, "", 0, &problems)
	sort.Strings(problems)
	return problems
}

func walkValue(components openapi3.Schemas, schemas []*openapi3.Schema, value any, path string, depth int, problems *[]string) {
	if depth > maxStrictDepth || len(schemas) == 0 {
		return
	}
	c := &candidates{props: map[string][]*openapi3.Schema{}}
	seen := map[*openapi3.Schema]bool{}
	for _, s := range schemas {
		collect(components, s, value, c, seen)
	}
	switch v := value.(type) {
	case map[string]any:
		if !c.declared {
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := c.props[k]
			if !ok {
				if !c.freeForm {
					*problems = append(*problems, fmt.Sprintf("unknown field %q", joinPath(path, k)))
				}
				continue
			}
			walkValue(components, sub, v[k], joinPath(path, k), depth+1, problems)
		}
	case []any:
		for i, item := range v {
			walkValue(components, c.items, item, fmt.Sprintf("%s[%d]", path, i), depth+1, problems)
		}
	}
}

// collect gathers the properties and item schemas s allows for value.
func collect(components openapi3.Schemas, s *openapi3.Schema, value any, c *candidates, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if len(s.Properties) > 0 {
		c.declared = true
	}
	for name, p := range s.Properties {
		if p != nil && p.Value != nil {
			c.props[name] = append(c.props[name], p.Value)
		}
	}
	if s.AdditionalProperties.Schema != nil || (s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has) {
		c.freeForm = true
	}
	if s.Items != nil && s.Items.Value != nil {
		c.items = append(c.items, s.Items.Value)
	}
	for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf} {
		for _, br := range group {
			if br != nil {
				collect(components, br.Value, value, c, seen)
			}
		}
	}
	if mapped := discriminated(components, s, value); mapped != nil {
		collect(components, mapped, value, c, seen)
		return
	}
	if s.Discriminator != nil && len(s.OneOf) == 0 {
		// Discriminator without oneOf and no usable value: any mapping.
		for _, m := range s.Discriminator.Mapping {
			collect(components, resolveMapping(components, m), value, c, seen)
		}
	}
	for _, br := range s.OneOf {
		if br != nil {
			collect(components, br.Value, value, c, seen)
		}
	}
}

// discriminated returns the schema s's discriminator maps value to, if any.
func discriminated(components openapi3.Schemas, s *openapi3.Schema, value any) *openapi3.Schema {
	if s.Discriminator == nil {
		return nil
	}
	obj, ok := value.(map[string]any)
	if !ok {
		return nil
	}
	key, ok := obj[s.Discriminator.PropertyName].(string)
	if !ok {
		return nil
	}
	m, ok := s.Discriminator.Mapping[key]
	if !ok {
		return nil
	}
	return resolveMapping(components, m)
}

func resolveMapping(components openapi3.Schemas, m openapi3.MappingRef) *openapi3.Schema {
	if m.Value != nil {
		return m.Value
	}
	name := strings.TrimPrefix(m.Ref, "#/components/schemas/")
	if ref := components[name]; ref != nil {
		return ref.Value
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
