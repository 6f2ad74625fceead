package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors/zendesk/zendesktest"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestTestConnectionUsesTheTypedValues(t *testing.T) {
	t.Parallel()
	b, a := setupLoggedIn(t)
	ctx := context.Background()

	t.Run("number", func(t *testing.T) {
		id := a.addNumber(b.numberForm("support-us", whatsapptest.FixturePhoneNumberID))
		path := "/admin/numbers/" + fmt.Sprint(id)
		a.get(path)
		form := b.numberForm("support-renamed", whatsapptest.FixturePhoneNumberID)
		form.Set("access_token", "a-token-typed-but-wrong")
		form.Set("app_secret", "")
		res := a.post(path+"/test", form)
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, res.body, "WhatsApp refused the access token")
		require.Contains(t, res.body, "nothing is saved until you press Save")
		require.Contains(t, res.body, `value="support-renamed"`, "the form keeps what was typed")
		acc, err := b.store.AccountByID(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "support-us", acc.Name, "nothing saved")
		require.NotEqual(t, "token_expired", acc.Health, "the typed values' failure is not the stored number's health")

		form.Set("access_token", "")
		res = a.post(path+"/test", form)
		require.Contains(t, res.body, "Connection works")
	})
	t.Run("helpdesk", func(t *testing.T) {
		zd := zendesktest.New(t)
		id := a.addHelpdesk(zendeskForm(zd, "zendesk-main"))
		path := "/admin/helpdesks/" + fmt.Sprint(id)
		a.get(path)
		form := zendeskForm(zd, "zendesk-renamed")
		form.Set("credentials.api_token", "typed-but-wrong")
		requireRejected(t, a.post(path+"/test", form), "Zendesk refused these credentials")
		form.Set("credentials.api_token", "")
		res := a.post(path+"/test", form)
		require.Equal(t, http.StatusOK, res.code)
		require.Contains(t, res.body, "Connection works with the values in the form")
		require.Contains(t, res.body, `value="zendesk-renamed"`)
		require.Equal(t, "zendesk-main", b.connection(t, id).Name, "nothing saved")
	})
}
