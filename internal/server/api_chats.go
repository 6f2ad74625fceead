package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// allowedAccounts is the application's number filter for store queries
// (nil: every number).
func allowedAccounts(a store.APIAccess) []store.AccountID {
	if len(a.Client.AccountIDs) == 0 {
		return nil
	}
	return a.Client.AccountIDs
}

// resolveNumber finds a number the application may use by its
// phone_number_id or display number (digits, with or without "+").
func (s *Server) resolveNumber(c echo.Context, a store.APIAccess, v string) (store.Account, bool, error) {
	accounts, err := s.store.Accounts(c.Request().Context())
	if err != nil {
		return store.Account{}, false, err
	}
	want := digitsOnly(v)
	for _, acc := range accounts {
		if (acc.PhoneNumberID == v || (want != "" && digitsOnly(acc.DisplayPhoneNumber) == want)) && a.Client.AllowsAccount(acc.ID) {
			return acc, true, nil
		}
	}
	return store.Account{}, false, nil
}

func digitsOnly(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// listChats is GET /api/v1/chats.
func (s *Server) listChats(c echo.Context) error {
	a := apiAccess(c)
	f := store.ChatFilter{AccountIDs: allowedAccounts(a)}
	var err error
	if f.Limit, err = pageLimit(c); err != nil {
		return s.badRequest(c, err.Error())
	}
	if v := c.QueryParam("number"); v != "" {
		acc, ok, err := s.resolveNumber(c, a, v)
		if err != nil {
			return err
		}
		if !ok {
			return s.apiNotFound(c, "number")
		}
		f.AccountIDs = []store.AccountID{acc.ID}
	}
	if v := c.QueryParam("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return s.badRequest(c, "updated_since must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
		}
		f.UpdatedSince = &t
	}
	if v := c.QueryParam("has_open_ticket"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s.badRequest(c, "has_open_ticket must be true or false")
		}
		f.HasOpenTicket = &b
	}
	if v := c.QueryParam("cursor"); v != "" {
		cur, err := decodeCursor(v)
		if err != nil || cur.UpdatedAt == nil {
			return s.badRequest(c, "the cursor is not one this API returned")
		}
		f.AfterUpdated, f.AfterID = cur.UpdatedAt, cur.ID
	}
	chats, err := s.store.APIChats(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := listPage[apiview.Chat]{Data: make([]apiview.Chat, 0, len(chats))}
	for _, ch := range chats {
		out.Data = append(out.Data, apiview.NewChat(ch, bridge.Window))
	}
	if len(chats) == f.Limit {
		last := chats[len(chats)-1]
		next := encodeCursor(cursor{UpdatedAt: &last.UpdatedAt, ID: last.ID})
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// chatFor loads a chat the application may see and takes the number's
// rate-limit token; ok is false when the response is already written.
func (s *Server) chatFor(c echo.Context) (store.APIChat, bool, error) {
	ch, ok, err := apiEntryFor(s, c, "chat", s.store.APIChatByID, func(ch store.APIChat) store.AccountID { return ch.AccountID })
	if ok {
		noteConversation(c, ch.ID)
	}
	return ch, ok, err
}

// apiEntryFor loads the entry the :id path parameter names with load when
// the application may see its number (account gives the number), and takes
// that number's rate-limit token. ok is false when the response is already
// written (a 404 naming what, or 429) or err failed.
func apiEntryFor[ID ~int64, T any](s *Server, c echo.Context, what string, load func(context.Context, ID) (T, error),
	account func(T) store.AccountID) (T, bool, error) {
	id, valid := apiID[ID](c, "id")
	if !valid {
		var zero T
		return zero, false, s.apiNotFound(c, what)
	}
	v, err := load(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !apiAccess(c).Client.AllowsAccount(account(v))) {
		return v, false, s.apiNotFound(c, what)
	}
	if err != nil {
		return v, false, err
	}
	if ok, err := s.takeNumberToken(c, account(v)); !ok || err != nil {
		return v, false, err
	}
	return v, true, nil
}

// getChat is GET /api/v1/chats/{id}.
func (s *Server) getChat(c echo.Context) error {
	ch, ok, err := s.chatFor(c)
	if !ok {
		return err
	}
	return c.JSON(http.StatusOK, apiview.NewChat(ch, bridge.Window))
}

// listMessages is GET /api/v1/chats/{id}/messages: both directions, in
// the chat's order.
func (s *Server) listMessages(c echo.Context) error {
	ch, ok, err := s.chatFor(c)
	if !ok {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return s.badRequest(c, err.Error())
	}
	var after int64
	if v := c.QueryParam("cursor"); v != "" {
		cur, err := decodeCursor(v)
		if err != nil || cur.Seq <= 0 {
			return s.badRequest(c, "the cursor is not one this API returned")
		}
		after = cur.Seq
	}
	msgs, err := s.store.APIMessages(c.Request().Context(), ch.ID, after, limit)
	if err != nil {
		return err
	}
	base := s.publicBase(c)
	out := listPage[apiview.Message]{Data: make([]apiview.Message, 0, len(msgs))}
	for _, m := range msgs {
		out.Data = append(out.Data, apiview.NewMessage(m, base))
	}
	if len(msgs) == limit {
		next := encodeCursor(cursor{Seq: msgs[len(msgs)-1].Seq})
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// messageFor loads a message the application may see (see apiEntryFor).
func (s *Server) messageFor(c echo.Context) (store.APIMessage, bool, error) {
	m, ok, err := apiEntryFor(s, c, "message", s.store.APIMessageByID, func(m store.APIMessage) store.AccountID { return m.AccountID })
	if ok {
		noteConversation(c, m.ConversationID)
	}
	return m, ok, err
}

// getMessage is GET /api/v1/messages/{id}.
func (s *Server) getMessage(c echo.Context) error {
	m, ok, err := s.messageFor(c)
	if !ok {
		return err
	}
	return c.JSON(http.StatusOK, apiview.NewMessage(m, s.publicBase(c)))
}

// messageMedia is GET /api/v1/messages/{id}/media: an inbound message's
// file, streamed from Graph without buffering.
func (s *Server) messageMedia(c echo.Context) error {
	m, ok, err := s.messageFor(c)
	if !ok {
		return err
	}
	mediaID := apiview.MediaID(m)
	if mediaID == "" {
		return s.apiProblem(c, http.StatusNotFound, "no-media", "No media",
			"This message has no media relaydesk can download (outbound media was sent by link).")
	}
	rc, info, err := s.bridge.OpenMedia(c.Request().Context(), m.AccountID, mediaID)
	if err != nil {
		var ae *whatsapp.APIError
		if errors.As(err, &ae) && (ae.HTTPStatus == http.StatusNotFound || ae.HTTPStatus == http.StatusBadRequest) {
			return s.apiProblem(c, http.StatusNotFound, "media-gone", "Media no longer available",
				"WhatsApp no longer has this file (media is kept for 30 days).")
		}
		s.log.Warn("api media download failed", "message", m.ID, "err", err)
		return s.apiProblem(c, http.StatusBadGateway, "graph-unavailable", "WhatsApp did not deliver the file",
			"WhatsApp's media service failed; try again later.")
	}
	defer rc.Close()
	h := c.Response().Header()
	ctype := info.MimeType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	if info.FileSize > 0 {
		h.Set("Content-Length", strconv.FormatInt(info.FileSize, 10))
	}
	name := fmt.Sprintf("message-%d", m.ID)
	if v := apiview.NewMessage(m, "").Media; v != nil && v.Filename != "" {
		name = v.Filename
	}
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}

// contactParam reads the customer of /api/v1/contacts/{id}: a phone
// number (any formatting; digits are kept) or a business-scoped user id
// (BSUID, "US.13491208655302741918", kept as is). Empty: nothing.
func contactParam(c echo.Context) string {
	v := strings.TrimSpace(c.Param("id"))
	if validBSUID(v) {
		return v
	}
	if strings.Trim(v, "+0123456789 -()") != "" {
		return ""
	}
	return digitsOnly(v)
}

// bsuidRE is a BSUID's shape: an ISO country code, a dot, up to 128
// alphanumerics; a parent BSUID has "ENT." after the country code.
var bsuidRE = regexp.MustCompile(`^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$`)

// validBSUID reports whether s has a BSUID's shape.
func validBSUID(s string) bool { return bsuidRE.MatchString(s) }

// getContact is GET /api/v1/contacts/{id}, by phone number or BSUID. A
// phone number can name one contact in each WhatsApp Business Account the
// application may see: the answer is the oldest, with the chats of all.
func (s *Server) getContact(c echo.Context) error {
	id := contactParam(c)
	if id == "" {
		return s.apiNotFound(c, "contact")
	}
	cts, err := s.store.APIContactsByID(c.Request().Context(), id, allowedAccounts(apiAccess(c)))
	if err != nil {
		return err
	}
	if len(cts) == 0 {
		return s.apiNotFound(c, "contact")
	}
	out := apiview.NewContact(cts[0])
	for _, ct := range cts[1:] {
		out.ChatIDs = append(out.ChatIDs, ct.ChatIDs...)
	}
	return c.JSON(http.StatusOK, out)
}

// erasureJSON is the answer to DELETE /api/v1/contacts/{id}.
type erasureJSON struct {
	Erased        bool     `json:"erased"`
	Conversations int      `json:"conversations"`
	Messages      int      `json:"messages"`
	WebhookEvents int      `json:"webhook_events"`
	APIEvents     int      `json:"api_events"`
	Tickets       int      `json:"helpdesk_tickets"`
	Helpdesk      []string `json:"helpdesk"`
}

// eraseContact erases a customer (contacts:erase). An application narrowed
// to some numbers may erase only a customer whose every chat is on them.
// ?helpdesk=true also deletes the requester where the helpdesk's API can.
func (s *Server) eraseContact(c echo.Context) error {
	ctx := c.Request().Context()
	a := apiAccess(c)
	id := contactParam(c)
	if id == "" {
		return s.apiNotFound(c, "contact")
	}
	inHelpdesk := false
	if v := c.QueryParam("helpdesk"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-request", "Invalid request",
				"helpdesk must be true or false.")
		}
		inHelpdesk = b
	}
	// Every contact of that phone number or BSUID the application may
	// see is erased (one per WhatsApp Business Account).
	visible, err := s.store.APIContactsByID(ctx, id, allowedAccounts(a))
	if err != nil {
		return err
	}
	if len(visible) == 0 {
		return s.apiNotFound(c, "contact")
	}
	if allowedAccounts(a) != nil {
		all, err := s.store.APIContactsByID(ctx, id, nil)
		if err != nil {
			return err
		}
		// A contact visible here with a chat on another number is not
		// the application's alone (a contact of a WABA it does not see
		// at all is simply not touched).
		chats := map[store.ContactID]int{}
		for _, ct := range all {
			chats[ct.ID] = len(ct.ChatIDs)
		}
		shared := false
		for _, ct := range visible {
			shared = shared || chats[ct.ID] > len(ct.ChatIDs)
		}
		if shared {
			return s.apiProblem(c, http.StatusForbidden, "forbidden", "Forbidden",
				"This customer also writes to numbers this application is not allowed; an admin can erase them from the admin page.")
		}
	}
	var e bridge.Erasure
	for _, ct := range visible {
		one, err := s.bridge.EraseContact(ctx, store.Actor{Name: "api:" + a.Client.ClientID, IP: c.RealIP()}, ct.ID, inHelpdesk)
		if errors.Is(err, store.ErrNotFound) {
			continue // erased meanwhile
		}
		if err != nil {
			return err
		}
		e.Conversations += one.Conversations
		e.Messages += one.Messages
		e.WebhookEvents += one.WebhookEvents
		e.APIEvents += one.APIEvents
		e.HelpdeskTickets = append(e.HelpdeskTickets, one.HelpdeskTickets...)
		e.Helpdesk = append(e.Helpdesk, one.Helpdesk...)
	}
	return c.JSON(http.StatusOK, erasureJSON{Erased: true, Conversations: e.Conversations, Messages: e.Messages,
		WebhookEvents: e.WebhookEvents, APIEvents: e.APIEvents, Tickets: len(e.HelpdeskTickets), Helpdesk: append([]string{}, e.Helpdesk...)})
}
