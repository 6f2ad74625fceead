package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
)

// postWhatsApp delivers body to the WhatsApp webhook with the signature
// header sig (none when empty).
func postWhatsApp(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
