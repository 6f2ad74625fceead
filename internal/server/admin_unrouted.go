package server

import (
	"context"
	"net/http"
	"strconv"
	"testing/fstest"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/web"
)

// unroutedPage is the admin page of held customer messages: those no route
// of their number matched. Its template lives here, next to its handler,
// and is parsed with the admin layout at start-up like every other page.
const unroutedPage = "unrouted.html"

const unroutedTemplate = `{{define "title"}}Unrouted messages{{end}}
{{define "content"}}{{$csrf := .CSRF}}{{with .Data}}
<div class="page-head"><div>
  <h1>Unrouted messages</h1>
  <p>Customer messages no route of their WhatsApp number matched. They are held, not lost: add a route
  (a <code>default</code> route catches every customer) on the <a href="/admin/routes">Routing</a> page, then route them.</p>
</div></div>
{{range .Numbers}}
<div class="card" id="unrouted-{{.AccountID}}">
  <div class="card-head">
    <h2>{{.Number}} <span class="sub">{{len .Messages}} held</span></h2>
    <form method="post" action="/admin/unrouted/{{.AccountID}}/route" class="inline">{{template "csrf" $csrf}}
      <button type="submit" class="btn primary" id="route-{{.AccountID}}">Route held messages</button></form>
  </div>
  <div class="table-wrap"><table>
    <thead><tr><th>Received</th><th>Customer</th><th>Type</th><th>Message</th></tr></thead>
    <tbody>{{range .Messages}}
      <tr><td><span title="{{when .CreatedAt}}">{{ago .CreatedAt}}</span></td>
        <td><a href="/admin/conversations/{{.ConversationID}}">{{with .ProfileName}}{{.}} {{end}}<span class="mono">{{.Customer.Label}}</span></a></td>
        <td>{{.Kind}}</td><td>{{.Body}}</td></tr>{{end}}
    </tbody>
  </table></div>
</div>
{{else}}
<div class="card empty"><p>No held messages: every customer message matched a route.</p></div>
{{end}}
{{end}}{{end}}
`

// unroutedLimit bounds the messages the page lists.
const unroutedLimit = 500

// unroutedNumber is one number's held messages.
type unroutedNumber struct {
	AccountID store.AccountID
	Number    string
	Messages  []store.UnroutedMessage
}

// unroutedView is the data of the unrouted page.
type unroutedView struct {
	Numbers []unroutedNumber
}

// initUnrouted parses the unrouted page with the admin layout and exports
// the gauge of held messages, read from the database at scrape time (every
// replica reports the same). A broken template panics at start-up.
func (s *Server) initUnrouted() {
	files := fstest.MapFS{unroutedPage: &fstest.MapFile{Data: []byte(unroutedTemplate)}}
	if err := addPages(s.admin.pages, web.Templates, files, []string{unroutedPage}, nil,
		s.templateFuncs(s.admin.staticVersion)); err != nil {
		panic("server: unrouted template: " + err.Error())
	}
	if s.opts.Registry != nil && s.store != nil {
		s.opts.Registry.MustRegister(unroutedCollector{s.store})
	}
}

func (s *Server) unroutedList(c echo.Context) error {
	msgs, err := s.store.UnroutedMessages(c.Request().Context(), unroutedLimit)
	if err != nil {
		return err
	}
	var v unroutedView
	for _, m := range msgs {
		if n := len(v.Numbers); n == 0 || v.Numbers[n-1].AccountID != m.AccountID {
			v.Numbers = append(v.Numbers, unroutedNumber{AccountID: m.AccountID, Number: m.Number})
		}
		last := &v.Numbers[len(v.Numbers)-1]
		last.Messages = append(last.Messages, m)
	}
	return s.render(c, http.StatusOK, unroutedPage, "unrouted", v)
}

func (s *Server) unroutedRoute(c echo.Context) error {
	ctx := c.Request().Context()
	acc, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	n, err := s.bridge.RouteHeld(ctx, acc.ID)
	if err != nil {
		return err
	}
	_ = s.store.RecordAudit(ctx, s.actor(c), "unrouted.route", "whatsapp_account", int64(acc.ID), acc.Name,
		map[string]any{"conversations": n})
	return s.flash(c, "/admin/unrouted", "success", "Held messages of "+acc.Name+" queued for routing ("+
		strconv.Itoa(n)+" conversations).", "Messages that still match no route are held again.")
}

var unroutedDesc = prometheus.NewDesc("relaydesk_unrouted_messages",
	"Customer messages held because no route of their WhatsApp number matches them, by number.",
	[]string{"number"}, nil)

type unroutedCollector struct{ st *store.Store }

func (u unroutedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- unroutedDesc }

func (u unroutedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := u.st.UnroutedCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(unroutedDesc, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(unroutedDesc, prometheus.GaugeValue, float64(n.Count), n.Number)
	}
}
