package connectortest

// Webhook deliveries as the helpdesk fakes send them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// SignedDelivery returns payload, as JSON, as a delivery signed by sign at
// time at.
func SignedDelivery(payload any, at time.Time, sign func(body []byte, at time.Time) http.Header) Delivery {
	body, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	return Delivery{Header: sign(body, at), Body: body, At: at}
}

// DeliverTo posts d to a webhook endpoint, as the helpdesk would. An answer
// other than 2xx is an error.
func DeliverTo(ctx context.Context, hc *http.Client, endpoint string, d Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header = d.Header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errors.New("deliver to " + endpoint + ": " + resp.Status)
	}
	return nil
}
