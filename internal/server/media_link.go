package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// mediaLink serves a customer's media file to whoever holds a signed link
// from a ticket comment (GET /media/:token): the file the helpdesk would not
// take, streamed from Graph while WhatsApp keeps it. The token is never
// logged: errors name the route, not the path.
func (s *Server) mediaLink(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	rc, info, err := s.bridge.OpenMediaLink(c.Request().Context(), c.Param("token"))
	var ae *whatsapp.APIError
	switch {
	case errors.Is(err, bridge.ErrMediaLinkInvalid):
		return c.String(http.StatusNotFound, "This link is not valid.\n")
	case errors.Is(err, bridge.ErrMediaLinkExpired):
		return c.String(http.StatusGone, "This link has expired. Ask the customer to send the file again.\n")
	case errors.As(err, &ae) && (ae.HTTPStatus == http.StatusNotFound || ae.HTTPStatus == http.StatusBadRequest):
		return c.String(http.StatusGone, "WhatsApp no longer has this file (media is kept for 30 days).\n")
	case err != nil:
		s.log.Warn("media link download failed", "err", err)
		return c.String(http.StatusBadGateway, "WhatsApp did not deliver the file; try again later.\n")
	}
	defer rc.Close()
	ctype := info.MimeType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", "attachment")
	if info.FileSize > 0 {
		h.Set("Content-Length", strconv.FormatInt(info.FileSize, 10))
	}
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), rc)
	return err
}
