package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// testEventMarker starts the wamid of every test event, so the page can
// tell test events from Meta's deliveries.
const testEventMarker = "wamid.RELAYDESK-TEST-EVENT"

// numberHook is what Meta's App Dashboard needs for one number.
type numberHook struct {
	Account      store.Account
	CallbackURL  string
	VerifyToken  string
	LastDelivery *time.Time
}

// helpdeskHook is one connection's webhook.
type helpdeskHook struct {
	Conn        store.Connection
	DisplayName string
	URL         string
	Installer   bool
	Help        string
}

// webhooksView is the data of webhooks.html.
type webhooksView struct {
	Numbers    []numberHook
	Helpdesks  []helpdeskHook
	Events     []store.WebhookEventRow
	Source     string
	Outcome    string
	Sources    []string
	Outcomes   []string
	Rejections []Rejection
}

func (s *Server) webhooksPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := webhooksView{Source: c.QueryParam("source"), Outcome: c.QueryParam("outcome"), Rejections: s.rejections.recent()}
	accounts, err := s.store.Accounts(ctx)
	if err != nil {
		return err
	}
	last, err := s.store.LastSignedDeliveries(ctx, testEventMarker)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		sec, err := s.store.Secrets(a)
		if err != nil {
			return err
		}
		h := numberHook{Account: a, CallbackURL: s.publicBase(c) + "/webhooks/whatsapp", VerifyToken: sec.VerifyToken}
		if t, ok := last[a.ID]; ok {
			h.LastDelivery = &t
		}
		v.Numbers = append(v.Numbers, h)
	}
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return err
	}
	for _, conn := range conns {
		h := helpdeskHook{Conn: conn, DisplayName: conn.Kind, URL: s.helpdeskWebhookURL(c, conn)}
		if reg, ok := connectors.Lookup(conn.Kind); ok {
			h.DisplayName, h.Help = reg.Description.DisplayName, reg.Description.WebhookHelp
		}
		if cn, err := s.connector(conn); err == nil {
			_, h.Installer = cn.(connectors.WebhookInstaller)
		}
		v.Helpdesks = append(v.Helpdesks, h)
	}
	if v.Sources, v.Outcomes, err = s.store.WebhookEventFacets(ctx); err != nil {
		return err
	}
	v.Events, err = s.store.RecentWebhookEvents(ctx, store.WebhookEventFilter{Source: v.Source, Outcome: v.Outcome,
		TestMarker: testEventMarker, Limit: 50})
	if err != nil {
		return err
	}
	if unknown := s.unknownRows(v.Source, v.Outcome); len(unknown) > 0 {
		v.Events = append(v.Events, unknown...)
		slices.SortStableFunc(v.Events, func(a, b store.WebhookEventRow) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
		if !slices.Contains(v.Outcomes, bridge.OutcomeUnknownNumber) {
			v.Outcomes = append(v.Outcomes, bridge.OutcomeUnknownNumber)
		}
	}
	return s.render(c, http.StatusOK, "webhooks.html", "webhooks", v)
}

// sampleDelivery is a delivery as Meta sends it: a "delivered" status for a
// message relaydesk never sent. It passes the whole intake (signature,
// parsing, storage) but opens no conversation and no ticket.
func sampleDelivery(a store.Account, now time.Time) ([]byte, string) {
	wamid := testEventMarker + "." + strconv.FormatInt(now.UnixNano(), 36)
	display := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, a.DisplayPhoneNumber)
	value := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]any{"display_phone_number": display, "phone_number_id": a.PhoneNumberID},
		"statuses": []any{map[string]any{
			"id": wamid, "status": whatsapp.StatusDelivered, "timestamp": strconv.FormatInt(now.Unix(), 10),
			"recipient_id": "15550000000",
		}},
	}
	body, _ := json.Marshal(map[string]any{
		"object": whatsapp.ObjectWhatsAppBusinessAccount,
		"entry":  []any{map[string]any{"id": a.WABAID, "changes": []any{map[string]any{"field": whatsapp.FieldMessages, "value": value}}}},
	})
	return body, wamid
}

// numberEvent signs a sample delivery with the number's own app secret and
// runs it through the real intake path (the one POST /webhooks/whatsapp
// uses), then says what happened.
func (s *Server) numberEvent(c echo.Context) error {
	a, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	sec, err := s.store.Secrets(a)
	if err != nil {
		return err
	}
	body, wamid := sampleDelivery(a, time.Now())
	res, err := s.bridge.HandleWhatsAppWebhook(c.Request().Context(), body, whatsapp.Sign([]byte(sec.AppSecret), body))
	back := "/admin/webhooks"
	var rej *bridge.RejectError
	switch {
	case errors.As(err, &rej):
		return s.flash(c, back, "error", "The test event was rejected ("+rej.Reason+").",
			"Intake refused a delivery signed with this number's own app secret: "+rej.Error())
	case err != nil:
		return s.flash(c, back, "error", "The test event failed inside relaydesk.", err.Error())
	}
	_ = s.store.RecordAudit(c.Request().Context(), s.actor(c), "webhook.test_event", "whatsapp", int64(a.ID), a.Name,
		map[string]any{"event_id": res.EventID, "outcome": res.Outcome})
	if res.EventID == 0 {
		return s.flash(c, back, "warning", fmt.Sprintf("Test event for %s acknowledged but not stored (outcome: %s).", a.Name, res.Outcome),
			"The number is disabled or unknown to intake, so deliveries for it are dropped after a 200.")
	}
	return s.flash(c, back, "success",
		fmt.Sprintf("Test event for %s accepted: signature verified, stored as event #%d (outcome: %s).", a.Name, res.EventID, res.Outcome),
		"It was a “delivered” status for "+wamid+", a message relaydesk never sent, so nothing else changed and no ticket was opened.")
}
