package whatsapptest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// runID makes generated ids unique across processes (e.g. parallel test
// binaries sharing one database).
var runID = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

var idCounter atomic.Uint64

// NewWAMID returns a unique, realistic-looking message id ("wamid." +
// base64).
func NewWAMID() string {
	n := idCounter.Add(1)
	raw := fmt.Sprintf("RELAYDESKTEST.%s.%012d", runID, n)
	return "wamid." + base64.StdEncoding.EncodeToString([]byte(raw))
}

// NewMediaID returns a unique numeric media id.
func NewMediaID() string {
	return strconv.FormatUint(1_000_000_000_000_000+idCounter.Add(1), 10)
}

// SignBody returns the X-Hub-Signature-256 header value for body.
func SignBody(appSecret, body []byte) string {
	return whatsapp.Sign(appSecret, body)
}

// SignedRequest builds a webhook POST to url with body, signed with
// appSecret, usable both with an http.Client and with a handler's
// ServeHTTP.
func SignedRequest(tb testing.TB, url string, appSecret, body []byte) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("whatsapptest: build signed request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(whatsapp.SignatureHeader, SignBody(appSecret, body))
	return req
}

// Delivery builds webhook deliveries in the real wire format. Messages and
// statuses are added to the current business number (NewDelivery,
// ForNumber); each number gets one change for messages and one for
// statuses, as Meta sends them. Every message gets a unique wamid
// (MessageIDs, LastID). A Delivery is not safe for concurrent use.
type Delivery struct {
	groups []*deliveryGroup
	cur    *deliveryGroup
	at     time.Time
	names  map[string]string
	ids    []string
}

type deliveryGroup struct {
	wabaID, phoneNumberID, display string
	contacts                       []string
	messages                       []map[string]any
	statuses                       []map[string]any
	errors                         []whatsapp.Error
	events                         []accountEvent
}

type accountEvent struct {
	field string
	value any
}

// NewDelivery starts a delivery for business number phoneNumberID, under
// WABA FixtureWABAID with display number FixtureDisplayPhoneNumber.
func NewDelivery(phoneNumberID string) *Delivery {
	d := &Delivery{names: map[string]string{}}
	return d.ForNumber(phoneNumberID)
}

// ForNumber switches to another business number (same WABA as the current
// one), so a delivery can batch events for several numbers.
func (d *Delivery) ForNumber(phoneNumberID string) *Delivery {
	g := &deliveryGroup{wabaID: FixtureWABAID, phoneNumberID: phoneNumberID, display: FixtureDisplayPhoneNumber}
	if d.cur != nil {
		g.wabaID = d.cur.wabaID
	}
	d.groups = append(d.groups, g)
	d.cur = g
	return d
}

// WABA sets the WABA id (entry[].id) of the current number.
func (d *Delivery) WABA(id string) *Delivery {
	d.cur.wabaID = id
	return d
}

// DisplayNumber sets the display phone number of the current number.
func (d *Delivery) DisplayNumber(n string) *Delivery {
	d.cur.display = n
	return d
}

// At sets the timestamp of the events added next (default: now).
func (d *Delivery) At(t time.Time) *Delivery {
	d.at = t
	return d
}

// Name sets the profile name sent for a customer wa_id (default
// "Customer <wa_id>").
func (d *Delivery) Name(waID, name string) *Delivery {
	d.names[waID] = name
	return d
}

func (d *Delivery) timestamp() string {
	t := d.at
	if t.IsZero() {
		t = time.Now()
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// Message adds an inbound message of any type from wa_id from, with payload
// placed under the key named by typ (omitted when payload is nil). It is the
// building block of the typed helpers and can express types the helpers do
// not cover.
func (d *Delivery) Message(from, typ string, payload any) *Delivery {
	id := NewWAMID()
	m := map[string]any{"from": from, "id": id, "timestamp": d.timestamp(), "type": typ}
	if payload != nil {
		m[typ] = payload
	}
	d.cur.messages = append(d.cur.messages, m)
	d.ids = append(d.ids, id)
	if typ != whatsapp.TypeSystem {
		d.addContact(from)
	}
	return d
}

func (d *Delivery) addContact(waID string) {
	for _, c := range d.cur.contacts {
		if c == waID {
			return
		}
	}
	d.cur.contacts = append(d.cur.contacts, waID)
}

// Text adds a text message.
func (d *Delivery) Text(from, body string) *Delivery {
	return d.Message(from, whatsapp.TypeText, map[string]any{"body": body})
}

// Image adds an image message.
func (d *Delivery) Image(from, mediaID, mimeType, caption string) *Delivery {
	return d.Message(from, whatsapp.TypeImage, mediaPayload(mediaID, mimeType, caption, "", nil))
}

// Audio adds an audio message; voice marks a recorded voice note.
func (d *Delivery) Audio(from, mediaID, mimeType string, voice bool) *Delivery {
	return d.Message(from, whatsapp.TypeAudio, mediaPayload(mediaID, mimeType, "", "", map[string]any{"voice": voice}))
}

// Video adds a video message.
func (d *Delivery) Video(from, mediaID, mimeType, caption string) *Delivery {
	return d.Message(from, whatsapp.TypeVideo, mediaPayload(mediaID, mimeType, caption, "", nil))
}

// Document adds a document message.
func (d *Delivery) Document(from, mediaID, mimeType, filename, caption string) *Delivery {
	return d.Message(from, whatsapp.TypeDocument, mediaPayload(mediaID, mimeType, caption, filename, nil))
}

// Sticker adds a webp sticker message.
func (d *Delivery) Sticker(from, mediaID string, animated bool) *Delivery {
	return d.Message(from, whatsapp.TypeSticker, mediaPayload(mediaID, "image/webp", "", "", map[string]any{"animated": animated}))
}

func mediaPayload(id, mimeType, caption, filename string, extra map[string]any) map[string]any {
	sum := sha256Base64(id)
	p := map[string]any{"id": id, "mime_type": mimeType, "sha256": sum}
	if caption != "" {
		p["caption"] = caption
	}
	if filename != "" {
		p["filename"] = filename
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// Location adds a location message.
func (d *Delivery) Location(from string, lat, lng float64, name, address string) *Delivery {
	return d.Message(from, whatsapp.TypeLocation, map[string]any{
		"latitude": lat, "longitude": lng, "name": name, "address": address,
	})
}

// Reaction adds a reaction to messageID. An empty emoji builds a removal,
// which Meta sends with the emoji key omitted.
func (d *Delivery) Reaction(from, messageID, emoji string) *Delivery {
	p := map[string]any{"message_id": messageID}
	if emoji != "" {
		p["emoji"] = emoji
	}
	return d.Message(from, whatsapp.TypeReaction, p)
}

// ButtonReply adds a reply-button tap on an interactive message.
func (d *Delivery) ButtonReply(from, buttonID, title string) *Delivery {
	return d.Message(from, whatsapp.TypeInteractive, map[string]any{
		"type":         whatsapp.InteractiveButtonReply,
		"button_reply": map[string]any{"id": buttonID, "title": title},
	})
}

// Unsupported adds an unsupported message (error 131051), as sent for polls,
// view-once media and the like.
func (d *Delivery) Unsupported(from string) *Delivery {
	d.Message(from, whatsapp.TypeUnsupported, nil)
	d.last()["errors"] = []whatsapp.Error{{
		Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
		Details: "Message type is currently not supported.",
	}}
	return d
}

// NumberChanged adds a system message: the customer from moved to newWaID.
func (d *Delivery) NumberChanged(from, newWaID string) *Delivery {
	return d.Message(from, whatsapp.TypeSystem, map[string]any{
		"body":  fmt.Sprintf("User %s changed from %s to %s", from, from, newWaID),
		"wa_id": newWaID,
		"type":  whatsapp.SystemUserChangedNumber,
	})
}

// ReplyingTo marks the last added message as a reply to wamid (a message
// the business sent): context.from is the business display number.
func (d *Delivery) ReplyingTo(wamid string) *Delivery {
	d.last()["context"] = map[string]any{"from": d.cur.display, "id": wamid}
	return d
}

// With sets an extra top-level field on the last added message, e.g. a
// field from a newer Graph version.
func (d *Delivery) With(key string, value any) *Delivery {
	d.last()[key] = value
	return d
}

func (d *Delivery) last() map[string]any {
	if len(d.cur.messages) == 0 {
		panic("whatsapptest: no message added to the current number yet")
	}
	return d.cur.messages[len(d.cur.messages)-1]
}

// Status adds a status update for wamid (a message the business sent) to
// recipient wa_id; errs are attached (use with whatsapp.StatusFailed).
func (d *Delivery) Status(wamid, status, recipient string, errs ...whatsapp.Error) *Delivery {
	s := map[string]any{"id": wamid, "status": status, "timestamp": d.timestamp(), "recipient_id": recipient}
	if len(errs) > 0 {
		s["errors"] = errs
	}
	if status == whatsapp.StatusSent || status == whatsapp.StatusDelivered {
		s["pricing"] = map[string]any{"billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service"}
	}
	d.cur.statuses = append(d.cur.statuses, s)
	return d
}

// ValueError adds a value-level error (value.errors[]), e.g. 130429.
func (d *Delivery) ValueError(e whatsapp.Error) *Delivery {
	d.cur.errors = append(d.cur.errors, e)
	return d
}

// AccountEvent adds a change of another field (e.g.
// whatsapp.FieldMessageTemplateStatusUpdate) with the given value.
func (d *Delivery) AccountEvent(field string, value any) *Delivery {
	d.cur.events = append(d.cur.events, accountEvent{field: field, value: value})
	return d
}

// MessageIDs returns the wamids of the messages added so far, in order.
func (d *Delivery) MessageIDs() []string {
	return append([]string(nil), d.ids...)
}

// LastID returns the wamid of the last message added.
func (d *Delivery) LastID() string {
	if len(d.ids) == 0 {
		return ""
	}
	return d.ids[len(d.ids)-1]
}

// Bytes returns the delivery JSON. Entries are grouped by WABA in order of
// first appearance.
func (d *Delivery) Bytes() []byte {
	type change struct {
		Value any    `json:"value"`
		Field string `json:"field"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	var entries []*entry
	byWABA := map[string]*entry{}
	for _, g := range d.groups {
		e := byWABA[g.wabaID]
		if e == nil {
			e = &entry{ID: g.wabaID}
			byWABA[g.wabaID] = e
			entries = append(entries, e)
		}
		meta := map[string]any{"display_phone_number": g.display, "phone_number_id": g.phoneNumberID}
		if len(g.messages) > 0 || len(g.errors) > 0 {
			v := map[string]any{"messaging_product": "whatsapp", "metadata": meta}
			if len(g.contacts) > 0 {
				var cs []map[string]any
				for _, wa := range g.contacts {
					name := d.names[wa]
					if name == "" {
						name = "Customer " + wa
					}
					cs = append(cs, map[string]any{"profile": map[string]any{"name": name}, "wa_id": wa})
				}
				v["contacts"] = cs
			}
			if len(g.messages) > 0 {
				v["messages"] = g.messages
			}
			if len(g.errors) > 0 {
				v["errors"] = g.errors
			}
			e.Changes = append(e.Changes, change{Value: v, Field: whatsapp.FieldMessages})
		}
		if len(g.statuses) > 0 {
			v := map[string]any{"messaging_product": "whatsapp", "metadata": meta, "statuses": g.statuses}
			e.Changes = append(e.Changes, change{Value: v, Field: whatsapp.FieldMessages})
		}
		for _, ev := range g.events {
			e.Changes = append(e.Changes, change{Value: ev.value, Field: ev.field})
		}
	}
	body := struct {
		Object string   `json:"object"`
		Entry  []*entry `json:"entry"`
	}{whatsapp.ObjectWhatsAppBusinessAccount, entries}
	data, err := json.Marshal(body)
	if err != nil {
		panic(fmt.Sprintf("whatsapptest: encode delivery: %v", err))
	}
	return data
}

// Request returns the delivery as a POST to url signed with appSecret.
func (d *Delivery) Request(tb testing.TB, url string, appSecret []byte) *http.Request {
	tb.Helper()
	return SignedRequest(tb, url, appSecret, d.Bytes())
}

// sha256Base64 returns a base64 SHA-256 of s, a stand-in file hash.
func sha256Base64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}
