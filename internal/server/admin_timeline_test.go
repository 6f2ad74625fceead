package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// tinyPNG is a 1x1 transparent PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// TestConversationTimelineShows: images show as a thumbnail the admin can
// open, locations as the place's name and address with a map link, and a
// reply WhatsApp could not deliver as "Not delivered", never a green "Done".
func TestConversationTimelineShows(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	a.addNumber(form)
	convID, replyID := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Where is my order?")
	mediaID := b.graph.AddMedia(whatsapptest.Media{MimeType: "image/png", Data: tinyPNG})
	body := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Name("16505551234", "Kerry Fisher").
		Image("16505551234", mediaID, "image/png", "The box arrived like this").
		Location("16505551234", 52.516275, 13.377704, "Brandenburg Gate", "Pariser Platz, 10117 Berlin").Bytes()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", whatsapptest.SignBody([]byte(form.Get("app_secret")), body))
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var imageID int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM messages WHERE conversation_id = $1 AND kind = 'image'`, convID).Scan(&imageID))
	// The reply was accepted, then WhatsApp reported it undeliverable.
	_, err := b.pool.Exec(ctx, `UPDATE messages SET state = 'done' WHERE id = $1`, replyID)
	require.NoError(t, err)

	page := a.get("/admin/conversations/" + strconv.FormatInt(convID, 10))
	require.Equal(t, http.StatusOK, page.code)
	media := "/admin/messages/" + strconv.FormatInt(imageID, 10) + "/media"
	require.Contains(t, page.body, `<img src="`+media+`"`)
	require.Contains(t, page.body, "The box arrived like this")
	require.Contains(t, page.body, "Brandenburg Gate")
	require.Contains(t, page.body, "Pariser Platz, 10117 Berlin")
	require.Contains(t, page.body, "https://www.openstreetmap.org/?mlat=52.516275&amp;mlon=13.377704")
	require.NotContains(t, page.body, "[location]")
	require.Contains(t, page.body, `<span class="badge bad">Not delivered</span>`)
	require.NotContains(t, page.body, `<span class="badge ok">Done</span>`, "no green Done beside WhatsApp: failed")

	img := a.get(media)
	require.Equal(t, http.StatusOK, img.code, img.body)
	require.Equal(t, "image/png", img.header.Get("Content-Type"))
	require.Equal(t, "inline", img.header.Get("Content-Disposition"))
	require.Equal(t, string(tinyPNG), img.body)
	anon := b.agent(t).get(media)
	require.Equal(t, http.StatusSeeOther, anon.code)
	require.True(t, strings.HasPrefix(anon.location, "/admin/login"), anon.location)
	require.Equal(t, http.StatusNotFound, a.get("/admin/messages/"+strconv.FormatInt(replyID, 10)+"/media").code, "a text has no file")
}

// TestRetryClosedWindow: Retry on a reply the closed 24-hour window
// stopped says what would happen instead of queueing it, so WhatsApp does
// not refuse it again and the ticket does not get the same note twice.
func TestRetryClosedWindow(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()
	form := b.numberForm("support-us", whatsapptest.FixturePhoneNumberID)
	a.addNumber(form)
	convID, replyID := b.seedConversation(t, form.Get("app_secret"), "16505551234", "Kerry Fisher", "Where is my order?")
	_, err := b.pool.Exec(ctx, `UPDATE conversations SET last_inbound_at = now() - interval '25 hours' WHERE id = $1`, convID)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE messages SET status = '', error = '{"code":"not_sent_window","reason":"This reply was NOT sent."}'
		WHERE id = $1`, replyID)
	require.NoError(t, err)
	back := "/admin/conversations/" + strconv.FormatInt(convID, 10)
	retry := "/admin/messages/" + strconv.FormatInt(replyID, 10) + "/retry"

	page := a.get(back)
	require.NotContains(t, page.body, `id="retry-`+strconv.FormatInt(replyID, 10)+`"`, "no Retry that cannot work")
	require.Contains(t, page.body, "Retry is possible once the customer writes again")

	jobs := b.count(t, "SELECT count(*) FROM river_job")
	requireRedirect(t, a.post(retry, nil), back)
	page = a.get(back)
	require.Contains(t, page.body, "Not retried: the customer&#39;s 24-hour window is closed.")
	require.Contains(t, page.body, "no note was added to the ticket")
	require.NotContains(t, page.body, "Message queued again.")
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages WHERE id = $1 AND state = 'failed'", replyID))
	require.Equal(t, jobs, b.count(t, "SELECT count(*) FROM river_job"), "nothing queued")

	// Once the customer writes again, Retry sends it and says so.
	_, err = b.pool.Exec(ctx, `UPDATE conversations SET last_inbound_at = now() WHERE id = $1`, convID)
	require.NoError(t, err)
	require.Contains(t, a.get(back).body, `id="retry-`+strconv.FormatInt(replyID, 10)+`"`)
	requireRedirect(t, a.post(retry, nil), back)
	require.Contains(t, a.get(back).body, "relaydesk sends it to the customer now")
	require.Equal(t, 1, b.count(t, "SELECT count(*) FROM messages WHERE id = $1 AND state = 'pending'", replyID))
}
