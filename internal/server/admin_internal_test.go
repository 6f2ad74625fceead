package server

import (
	"html/template"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/web"
)

func TestParsePagesFailsAtBoot(t *testing.T) {
	t.Parallel()
	funcs := (&Server{}).templateFuncs("v1")

	_, err := parsePages(web.Templates, funcs)
	require.NoError(t, err, "the embedded templates parse")

	valid := fstest.MapFS{
		"layout.html":   {Data: []byte(`{{template "title" .}}{{template "content" .}}`)},
		"partials.html": {Data: []byte(`{{define "flash"}}{{end}}`)},
	}
	for _, name := range adminPages {
		valid[name] = &fstest.MapFile{Data: []byte(`{{define "title"}}t{{end}}{{define "content"}}c{{end}}`)}
	}
	_, err = parsePages(valid, funcs)
	require.NoError(t, err)

	t.Run("a syntax error", func(t *testing.T) {
		bad := fstest.MapFS{}
		for k, v := range valid {
			bad[k] = v
		}
		bad["numbers.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}{{.Oops}{{end}}`)}
		_, err := parsePages(bad, funcs)
		require.ErrorContains(t, err, "numbers.html")
	})
	t.Run("an undeclared template file", func(t *testing.T) {
		extra := fstest.MapFS{"stray.html": {Data: []byte(`x`)}}
		for k, v := range valid {
			extra[k] = v
		}
		_, err := parsePages(extra, funcs)
		require.ErrorContains(t, err, "stray.html is not declared")
	})
	t.Run("a page without content", func(t *testing.T) {
		missing := fstest.MapFS{}
		for k, v := range valid {
			missing[k] = v
		}
		missing["audit.html"] = &fstest.MapFile{Data: []byte(`{{define "title"}}t{{end}}`)}
		_, err := parsePages(missing, funcs)
		require.ErrorContains(t, err, "audit.html")
	})
	t.Run("an unknown function", func(t *testing.T) {
		_, err := parsePages(fstest.MapFS{"layout.html": {Data: []byte(`{{nope}}`)}, "partials.html": {Data: []byte(``)}},
			template.FuncMap{})
		require.Error(t, err)
	})
}
