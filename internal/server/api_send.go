package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiview"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
)

// sendRequest is the body of a send.
type sendRequest struct {
	// To and Number address a customer directly (POST /api/v1/messages).
	To     string `json:"to,omitempty"`
	Number string `json:"number,omitempty"`

	Type  string `json:"type"`
	Text  string `json:"text,omitempty"`
	Media *struct {
		Link     string `json:"link"`
		Caption  string `json:"caption,omitempty"`
		Filename string `json:"filename,omitempty"`
	} `json:"media,omitempty"`
	Template *bridge.APITemplate `json:"template,omitempty"`
}

// sendToChat is POST /api/v1/chats/{id}/messages.
func (s *Server) sendToChat(c echo.Context) error {
	ch, ok, err := s.chatFor(c)
	if !ok {
		return err
	}
	return s.send(c, func(r sendRequest) (bridge.APISend, error) {
		if r.To != "" || r.Number != "" {
			return bridge.APISend{}, invalidSend("to and number are for POST /api/v1/messages; this chat already names them")
		}
		return bridge.APISend{ChatID: ch.ID}, nil
	})
}

// sendToNumber is POST /api/v1/messages: to a customer's phone number from
// one of the application's WhatsApp numbers (the chat is created if new;
// the first message to a customer who never wrote must be a template).
func (s *Server) sendToNumber(c echo.Context) error {
	a := apiAccess(c)
	var account store.Account
	return s.send(c, func(r sendRequest) (bridge.APISend, error) {
		to := digitsOnly(r.To)
		if validBSUID(strings.TrimSpace(r.To)) {
			// A customer who hides their phone: addressed by the BSUID
			// they wrote with (the number's WABA must know it).
			to = strings.TrimSpace(r.To)
		} else if len(to) < 7 || len(to) > 15 || strings.Trim(r.To, "+0123456789 -()") != "" {
			return bridge.APISend{}, invalidSend("to must be the customer's phone number in international format, e.g. +16505551234, or their business-scoped user id, e.g. US.13491208655302741918")
		}
		if r.Number != "" {
			acc, ok, err := s.resolveNumber(c, a, r.Number)
			if err != nil {
				return bridge.APISend{}, err
			}
			if !ok {
				return bridge.APISend{}, errNumberUnknown
			}
			if !acc.Enabled {
				return bridge.APISend{}, invalidSend("this WhatsApp number is disabled in relaydesk")
			}
			account = acc
		} else {
			accounts, err := s.store.Accounts(c.Request().Context())
			if err != nil {
				return bridge.APISend{}, err
			}
			var allowed []store.Account
			for _, acc := range accounts {
				if acc.Enabled && a.Client.AllowsAccount(acc.ID) {
					allowed = append(allowed, acc)
				}
			}
			if len(allowed) != 1 {
				return bridge.APISend{}, invalidSend("number is required: name the WhatsApp number to send from (its phone_number_id or display number)")
			}
			account = allowed[0]
		}
		if ok, err := s.takeNumberToken(c, account.ID); !ok || err != nil {
			if err == nil {
				err = errAnswered
			}
			return bridge.APISend{}, err
		}
		return bridge.APISend{AccountID: account.ID, WaID: to}, nil
	})
}

func invalidSend(reason string) error { return &bridge.InvalidSendError{Reason: reason} }

var (
	errNumberUnknown = errors.New("unknown number")
	errAnswered      = errors.New("response already written")
)

// send reads a send request, honours its Idempotency-Key (24 hours, stored
// in PostgreSQL in the transaction that queues the message), and queues it.
func (s *Server) send(c echo.Context, address func(sendRequest) (bridge.APISend, error)) error {
	ctx := c.Request().Context()
	a := apiAccess(c)
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 255 {
		return s.badRequest(c, "the Idempotency-Key is longer than 255 characters")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, apiMaxBody+1))
	if err != nil {
		return err
	}
	if len(body) > apiMaxBody {
		return s.apiProblem(c, http.StatusRequestEntityTooLarge, "too-large", "Request too large", "The body is larger than 64 KiB.")
	}
	var r sendRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return s.badRequest(c, "the body must be a JSON message: "+err.Error())
	}
	if f := unstorableField(body); f != "" {
		return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-message", "Invalid message",
			f+" holds a NUL character, half of a surrogate pair or bytes that are not UTF-8; send valid Unicode text")
	}
	send, err := address(r)
	var bad *bridge.InvalidSendError
	switch {
	case errors.Is(err, errAnswered):
		return nil
	case errors.Is(err, errNumberUnknown):
		return s.apiNotFound(c, "number")
	case errors.As(err, &bad):
		return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-message", "Invalid message", bad.Reason)
	case err != nil:
		return err
	}
	send.ClientName, send.Type, send.Text, send.Template = a.Client.Name, r.Type, r.Text, r.Template
	if r.Media != nil {
		send.Link, send.Caption, send.Filename = r.Media.Link, r.Media.Caption, r.Media.Filename
	}
	sum := sha256.Sum256(append([]byte(c.Request().Method+" "+c.Request().URL.Path+"\n"), body...))

	var stored *store.StoredResponse
	var out []byte
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		if key != "" {
			var err error
			if stored, err = tx.BeginIdempotent(ctx, a.Client.ID, key, sum[:]); err != nil || stored != nil {
				return err
			}
		}
		id, err := s.bridge.QueueAPISend(ctx, tx, send)
		if err != nil {
			return err
		}
		m, err := tx.APIMessageByID(ctx, id)
		if err != nil {
			return err
		}
		noteConversation(c, m.ConversationID)
		if out, err = json.Marshal(apiview.NewMessage(m, s.publicBase(c))); err != nil {
			return err
		}
		if key != "" {
			return tx.FinishIdempotent(ctx, a.Client.ID, key, store.StoredResponse{Status: http.StatusAccepted, Body: out})
		}
		return nil
	})
	var invalid *bridge.InvalidSendError
	switch {
	case errors.Is(err, bridge.ErrOutsideWindow):
		return s.apiProblem(c, http.StatusUnprocessableEntity, "outside-window", "Outside the 24-hour window",
			err.Error()+". Send a template (type \"template\") instead.")
	case errors.As(err, &invalid):
		return s.apiProblem(c, http.StatusUnprocessableEntity, "invalid-message", "Invalid message", invalid.Reason)
	case errors.Is(err, store.ErrIdempotencyMismatch):
		return s.apiProblem(c, http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key reused",
			"This Idempotency-Key was used in the last 24 hours for a request with another body; use a new key.")
	case errors.Is(err, store.ErrIdempotencyInProgress):
		return s.apiProblem(c, http.StatusConflict, "idempotency-in-progress", "Request in progress",
			"A request with this Idempotency-Key is still being processed; retry in a moment.")
	case err != nil:
		return err
	}
	if stored != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.Blob(stored.Status, echo.MIMEApplicationJSON, stored.Body)
	}
	var m apiview.Message
	_ = json.Unmarshal(out, &m)
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/messages/%d", m.ID))
	return c.Blob(http.StatusAccepted, echo.MIMEApplicationJSON, out)
}
