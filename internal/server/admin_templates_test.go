package server_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

// "Refresh templates" reads the number's catalogue from Graph (every
// page) and the page shows each template with a preview and the reply that
// sends it; a failed read says so and keeps the catalogue.
func TestNumberTemplatesRefresh(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	id := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
	path := "/admin/numbers/" + fmt.Sprint(id)
	require.Contains(t, a.get(path).body, "No templates read yet.")

	b.graph.SetTemplates(whatsapptest.FixtureWABAID, whatsapptest.FixtureTemplates()...)
	res := a.post(path+"/templates/refresh", nil)
	requireRedirect(t, res, path)
	page := a.get(path)
	require.Equal(t, http.StatusOK, page.code)
	require.Contains(t, page.body, "Read 5 templates of support-us from WhatsApp.")
	require.Contains(t, page.body, "<code>order_update</code>")
	require.Contains(t, page.body, "Hi [Ana], your order [A-1042] has shipped.", "the preview fills in the samples")
	require.Contains(t, page.body, "[image]")
	require.Contains(t, page.body, "Hello [Jessica], see you on [May 3].")
	require.Contains(t, page.body, "/template order_update en_US\n(and an image attached to the reply, for its header)\n1: ...")
	require.Contains(t, page.body, "PAUSED")

	b.graph.SetAccessToken("revoked")
	requireRedirect(t, a.post(path+"/templates/refresh", nil), path)
	page = a.get(path)
	require.Contains(t, page.body, "could not be read; the previous one is kept.")
	require.Contains(t, page.body, "<code>order_update</code>")
}
