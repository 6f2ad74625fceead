package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/connectors/connectortest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o envOpts
	var view string
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	commonFlags(fs, &o, 50)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "relaydesk's address")
	fs.StringVar(&view, "view", "127.0.0.1:8090", "address of the fake helpdesk's web view")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	o.dbName, o.conversations, o.demo, o.logLevel = "relaydesk_demo", 1, true, "info"
	log := newLogger(stderr)
	e, err := setup(ctx, log, o)
	if err != nil {
		return err
	}
	defer e.close()
	l := e.loader()
	d := &demo{e: e, l: l, ph: &phase{name: "demo"}}
	e.t.phase.Store(d.ph)

	ln, err := net.Listen("tcp", view)
	if err != nil {
		return fmt.Errorf("listen on %s (-view): %w", view, err)
	}
	srv := &http.Server{Handler: d.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	log.Info("demo: a customer writes on WhatsApp")
	if err := d.customerWrites(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
relaydesk demo is running (Ctrl-C stops it and removes its database).

  relaydesk:            %[1]s   (health: %[1]s/readyz)
  relaydesk admin:      %[1]s/admin%[3]s
  fake helpdesk:        http://%[2]s/   tickets and comments as an agent sees them; reply from there
  customer's WhatsApp:  http://%[2]s/#whatsapp   what relaydesk sent to the customer; write as the customer

relaydesk's log: %[4]s
`, e.rd.baseURL, ln.Addr(), d.setupHint(), e.rd.logPath)
	<-ctx.Done()
	return nil
}

type demo struct {
	e  *environment
	l  *loader
	ph *phase
}

// customerWrites sends a text, a photo and a location, waits for the ticket,
// then has the agent answer once.
func (d *demo) customerWrites(ctx context.Context) error {
	cv := d.e.t.convs[0]
	cv.name = "Kerry Fisher"
	imgID := d.e.graph.AddMedia(whatsapptest.Media{MimeType: "image/png", Data: demoImage()})
	del := whatsapptest.NewDelivery(loadPhoneID).Name(cv.waID, cv.name).
		Text(cv.waID, "Hi! My order #1042 has not arrived yet.").
		Image(cv.waID, imgID, "image/png", "This is the label on the last parcel I got").
		Location(cv.waID, 52.520008, 13.404954, "Pickup point", "Alexanderplatz 1, Berlin")
	if !d.l.postWhatsApp(d.ph, del.Bytes()) {
		return fmt.Errorf("relaydesk did not accept the demo webhook; see %s", d.e.rd.logPath)
	}
	tk, err := d.waitTicket(ctx, 3)
	if err != nil {
		return err
	}
	d.e.log.Info("demo: the agent answers in the helpdesk")
	before := len(d.e.graph.Sent())
	if err := d.agentReplies(tk, "Sorry about that, Kerry! A replacement is on its way and should arrive on Friday."); err != nil {
		return err
	}
	return d.customerAnswers(ctx, tk, before)
}

// customerAnswers plays what follows the agent's reply on WhatsApp: it is
// delivered and read (the ticket's whatsapp-read tag), then the customer
// answers it by quoting it and reacts to it (the quoted words and the
// reaction on the ticket).
func (d *demo) customerAnswers(ctx context.Context, ticketID string, before int) error {
	cv := d.e.t.convs[0]
	var wamid string
	deadline := time.Now().Add(30 * time.Second)
	for wamid == "" && time.Now().Before(deadline) && ctx.Err() == nil {
		if sent := d.e.graph.Sent(); len(sent) > before {
			wamid = sent[before].ID
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if wamid == "" {
		return fmt.Errorf("relaydesk did not send the agent's reply within 30 s; see %s", d.e.rd.logPath)
	}
	time.Sleep(time.Second) // relaydesk records the wamid after Graph answers
	statuses := whatsapptest.NewDelivery(loadPhoneID).Status(wamid, "sent", cv.waID).Status(wamid, "delivered", cv.waID).Status(wamid, "read", cv.waID)
	if !d.l.postWhatsApp(d.ph, statuses.Bytes()) {
		return fmt.Errorf("relaydesk did not accept the demo's statuses; see %s", d.e.rd.logPath)
	}
	answer := whatsapptest.NewDelivery(loadPhoneID).Name(cv.waID, cv.name).Text(cv.waID, "Friday is perfect, thank you!").ReplyingTo(wamid).
		Reaction(cv.waID, wamid, "🙏")
	if !d.l.postWhatsApp(d.ph, answer.Bytes()) {
		return fmt.Errorf("relaydesk did not accept the demo webhook; see %s", d.e.rd.logPath)
	}
	_, err := d.waitTicket(ctx, 6)
	return err
}

func (d *demo) waitTicket(ctx context.Context, comments int) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if ts := d.e.zd.Tickets(); len(ts) > 0 && len(d.e.zd.Comments(ts[0].ID)) >= comments {
			d.e.t.mu.Lock()
			known := d.e.t.known[ts[0].ID]
			d.e.t.mu.Unlock()
			if known {
				return ts[0].ID, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("no ticket with %d comments in the fake helpdesk after 60 s; see %s", comments, d.e.rd.logPath)
}

func (d *demo) agentReplies(ticketID, body string) error {
	id := d.e.zd.AgentReply(ticketID, body)
	del := d.e.zd.CommentDelivery(ticketID, id)
	if !d.l.post(d.ph, "/webhooks/helpdesk/"+d.l.publicID, del.Body, del.Header) {
		return fmt.Errorf("relaydesk did not accept the helpdesk webhook; see %s", d.e.rd.logPath)
	}
	return nil
}

var setupLinkRe = regexp.MustCompile(`/admin/setup\?token=[A-Za-z0-9_%.\-]+`)

// setupHint finds the first-admin setup link relaydesk logs, if any.
func (d *demo) setupHint() string {
	b, err := os.ReadFile(d.e.rd.logPath)
	if err != nil {
		return ""
	}
	if m := setupLinkRe.Find(b); m != nil {
		return "   (first admin: " + d.e.rd.baseURL + string(m) + ")"
	}
	return ""
}

// demoImage draws a small PNG so the web view has a real picture to show.
func demoImage() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, 100))
	for y := range 100 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{uint8(60 + x), uint8(90 + y), 200, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

var demoPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"dataURL": func(ct string, data []byte) template.URL {
		return template.URL("data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(data))
	},
	"isImage": func(ct string) bool { return strings.HasPrefix(ct, "image/") },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Fake helpdesk — relaydesk demo</title>
<meta http-equiv="refresh" content="5">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
.ticket{border:1px solid #ccc;border-radius:6px;padding:1rem;margin-bottom:1.5rem}
.c{padding:.5rem .75rem;margin:.4rem 0;border-radius:6px;background:#f4f6f8;white-space:pre-wrap}
.agent{background:#e6f4ea}.note{background:#fff4d6}.meta{color:#666;font-size:.85em}
img{max-width:240px;display:block;margin-top:.4rem}
textarea{width:100%;height:3.5rem}
</style></head><body>
<h1>Fake helpdesk</h1>
<p class="meta">An in-memory Zendesk stand-in. relaydesk creates these tickets and comments through Zendesk's API; replying here sends Zendesk's webhook to relaydesk. The page refreshes every 5 seconds.</p>
{{range .Tickets}}<div class="ticket">
<h2>#{{.ID}} {{.Subject}}</h2>
<p class="meta">status {{.Status}} · requester {{.RequesterID}} · external id {{.ExternalID}} · tags {{.Tags}}</p>
{{range .Comments}}<div class="c{{if eq .AuthorID $.AgentID}}{{if .Public}} agent{{else}} note{{end}}{{end}}">
<span class="meta">{{if eq .AuthorID $.AgentID}}{{if .Public}}agent reply{{else}}internal note{{end}}{{else}}customer{{end}} · comment {{.ID}}</span>
{{.Body}}{{range .Attachments}}<div class="meta">attachment: {{.Filename}} ({{.ContentType}}, {{len .Data}} bytes)</div>{{if isImage .ContentType}}<img src="{{dataURL .ContentType .Data}}" alt="{{.Filename}}">{{end}}{{end}}
</div>{{end}}
<form method="post" action="/reply"><input type="hidden" name="ticket" value="{{.ID}}"><textarea name="body" placeholder="Public reply to the customer"></textarea><button>Reply as agent</button></form>
</div>{{else}}<p>No tickets yet.</p>{{end}}
<h2 id="whatsapp">Customer's WhatsApp</h2>
<p class="meta">Messages relaydesk sent through the fake Graph API:</p>
{{range .Sent}}<div class="c agent"><span class="meta">to +{{.To}} · {{.Type}} · {{.ID}}</span>
{{.Text}}</div>{{else}}<p>Nothing sent yet.</p>{{end}}
<form method="post" action="/customer"><textarea name="body" placeholder="Write as the customer"></textarea><button>Send as customer on WhatsApp</button></form>
</body></html>`))

type demoTicket struct {
	ID, Subject, Status, RequesterID, ExternalID string
	Tags                                         []string
	Comments                                     any
}

func (d *demo) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var ts []demoTicket
		for _, t := range d.e.zd.Tickets() {
			ts = append(ts, demoTicket{ID: t.ID, Subject: t.Subject, Status: string(t.Status), RequesterID: t.RequesterID,
				ExternalID: t.ExternalID, Tags: t.Tags, Comments: d.e.zd.Comments(t.ID)})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = demoPage.Execute(w, map[string]any{"Tickets": ts, "AgentID": d.e.zd.AgentID(), "Sent": d.e.graph.Sent()})
	})
	mux.HandleFunc("POST /reply", func(w http.ResponseWriter, r *http.Request) {
		if body := strings.TrimSpace(r.FormValue("body")); body != "" {
			if !slices.ContainsFunc(d.e.zd.Tickets(), func(t connectortest.Ticket) bool { return t.ID == r.FormValue("ticket") }) {
				http.Error(w, "no such ticket", http.StatusNotFound)
				return
			}
			if err := d.agentReplies(r.FormValue("ticket"), body); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /customer", func(w http.ResponseWriter, r *http.Request) {
		if body := strings.TrimSpace(r.FormValue("body")); body != "" {
			cv := d.e.t.convs[0]
			del := whatsapptest.NewDelivery(loadPhoneID).Name(cv.waID, cv.name).Text(cv.waID, body)
			if !d.l.postWhatsApp(d.ph, del.Bytes()) {
				http.Error(w, "relaydesk did not accept the webhook", http.StatusBadGateway)
				return
			}
		}
		http.Redirect(w, r, "/#whatsapp", http.StatusSeeOther)
	})
	return mux
}
