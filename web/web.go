// Package web holds the admin page's HTML templates and static files,
// embedded in the binary. internal/server parses the templates once at
// start-up and serves the static files under /admin/static/.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates holds the page templates: layout.html and partials.html are
// shared, every other file is one page.
var Templates fs.FS = mustSub(templates, "templates")

// Static holds the CSS and JavaScript served under /admin/static/.
var Static fs.FS = mustSub(static, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
