package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/api
var apiFiles embed.FS

// APITemplates holds the public API's pages: the applications pages and
// the consent page (rendered with the admin layout and partials of
// Templates), and the API reference page with its stylesheet.
var APITemplates fs.FS = mustSub(apiFiles, "templates/api")
