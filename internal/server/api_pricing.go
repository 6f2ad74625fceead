package server

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/apiview"
)

// pricingCount is one row of GET /api/v1/numbers/{number}/pricing.
type pricingCount struct {
	Month    string `json:"month"` // YYYY-MM, UTC
	Category string `json:"category"`
	Messages int    `json:"messages"`
	Billable int    `json:"billable"`
}

// numberPricing is GET /api/v1/numbers/{number}/pricing: a number's
// outbound messages per month and WhatsApp pricing category (from their
// status webhooks), newest month first.
func (s *Server) numberPricing(c echo.Context) error {
	a := apiAccess(c)
	acc, ok, err := s.resolveNumber(c, a, c.Param("number"))
	if err != nil {
		return err
	}
	if !ok {
		return s.apiNotFound(c, "number")
	}
	months := 3
	if v := c.QueryParam("months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 24 {
			return s.badRequest(c, "months must be a whole number from 1 to 24")
		}
		months = n
	}
	if ok, err := s.takeNumberToken(c, acc.ID); !ok || err != nil {
		return err
	}
	counts, err := s.store.PricingByMonth(c.Request().Context(), acc.ID, months)
	if err != nil {
		return err
	}
	out := struct {
		Number apiview.Number `json:"number"`
		Data   []pricingCount `json:"data"`
	}{Number: apiview.Number{PhoneNumberID: acc.PhoneNumberID, DisplayPhoneNumber: acc.DisplayPhoneNumber},
		Data: make([]pricingCount, 0, len(counts))}
	for _, p := range counts {
		out.Data = append(out.Data, pricingCount{Month: p.Month.UTC().Format("2006-01"), Category: p.Category,
			Messages: p.Messages, Billable: p.Billable})
	}
	return c.JSON(http.StatusOK, out)
}
