package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"riverqueue.com/riverui"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/web"
)

// pageFiles are the templates shared by every page; every other file in
// web/templates is a page and must be listed in adminPages.
var pageFiles = []string{"layout.html", "partials.html"}

// adminPages lists every page template. Parsing fails at start-up when a
// page is missing, broken, or a template file is not listed here.
var adminPages = []string{
	"login.html", "setup.html", "error.html", "leave.html", "delete.html", "resume.html",
	"numbers.html", "number.html",
	"helpdesks.html", "helpdesk_new.html", "helpdesk.html",
	"routing_rules.html", "routing_rule.html",
	"webhooks.html",
	"conversations.html", "conversation.html",
	"audit.html",
}

// apiPages are the public API's admin pages in web/templates/api, rendered
// with the admin layout and partials. docs.html and docs.css (apiDocsFiles)
// are the reference page (api_docs.go).
var (
	apiPages     = []string{"apps.html", "app_new.html", "app.html", "consent.html"}
	apiDocsFiles = []string{"docs.html", "docs.css"}
)

// parsePages parses every page of files with its shared layout and partials.
func parsePages(files fs.FS, funcs template.FuncMap) (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	return pages, addPages(pages, files, files, adminPages, pageFiles, funcs)
}

// addPages parses each of names from files, on top of the layout and
// partials of shared, into pages. Every file of files must be one of names
// or others, and every page must define "title" and "content".
func addPages(pages map[string]*template.Template, shared, files fs.FS, names, others []string, funcs template.FuncMap) error {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return fmt.Errorf("read templates: %w", err)
	}
	for _, e := range entries {
		if !slices.Contains(others, e.Name()) && !slices.Contains(names, e.Name()) {
			return fmt.Errorf("template %s is not declared as a page (internal/server/admin_templates.go)", e.Name())
		}
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(shared, pageFiles...)
	if err != nil {
		return fmt.Errorf("parse layout: %w", err)
	}
	for _, name := range names {
		t, err := base.Clone()
		if err != nil {
			return fmt.Errorf("clone layout: %w", err)
		}
		if t, err = t.ParseFS(files, name); err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		if t.Lookup("content") == nil || t.Lookup("title") == nil {
			return fmt.Errorf("template %s must define \"title\" and \"content\"", name)
		}
		pages[name] = t
	}
	return nil
}

// initAPIPages parses the API's pages next to the admin pages; like those,
// a broken or undeclared template panics at start-up.
func (s *Server) initAPIPages() {
	err := addPages(s.admin.pages, web.Templates, web.APITemplates, apiPages, apiDocsFiles,
		s.templateFuncs(s.admin.staticVersion))
	if err == nil {
		_, err = docsPage()
	}
	if err != nil {
		panic("server: api templates: " + err.Error())
	}
}

// staticVersion is a hash of the static files, appended to their URLs so
// that browsers may cache them for good.
func staticVersion(files fs.FS) string {
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// initAdmin parses the templates and prepares the admin page. A template
// error panics: templates are embedded, so a bad one is a build defect that
// every test and every start-up reports at once.
func (s *Server) initAdmin() {
	a := &adminState{http: bridge.DefaultHTTPClient(), connectors: s.opts.Connectors}
	a.staticVersion = staticVersion(web.Static)
	pages, err := parsePages(web.Templates, s.templateFuncs(a.staticVersion))
	if err != nil {
		panic("server: admin templates: " + err.Error())
	}
	a.pages = pages
	a.static = http.StripPrefix("/admin/static/", http.FileServer(http.FS(web.Static)))
	if s.opts.River != nil {
		a.jobs, a.jobsErr = riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints: riverui.NewEndpoints(s.opts.River, nil),
			Logger:    s.log.With("component", "riverui"),
			Prefix:    "/admin/jobs",
		})
	}
	s.admin = a
	s.echo.Renderer = a
}

// Render implements echo.Renderer: name is a page in adminPages.
func (a *adminState) Render(w io.Writer, name string, data any, _ echo.Context) error {
	t, ok := a.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	return t.ExecuteTemplate(w, "layout.html", data)
}

// serveStatic serves /admin/static/: CSS and JS, cached for good when the
// URL carries the current version.
func (s *Server) serveStatic(c echo.Context) error {
	if c.QueryParam("v") == s.admin.staticVersion {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	s.admin.static.ServeHTTP(c.Response(), c.Request())
	return nil
}
