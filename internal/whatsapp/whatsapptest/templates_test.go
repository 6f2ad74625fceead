package whatsapptest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestTemplateCatalogueIsReadPageByPage(t *testing.T) {
	t.Parallel()
	g := whatsapptest.Start(t, whatsapptest.Options{TemplatePageSize: 2})
	g.SetTemplates(whatsapptest.FixtureWABAID, whatsapptest.FixtureTemplates()...)
	c := g.NewClient(t, "")

	got, err := c.ListTemplates(context.Background(), whatsapptest.FixtureWABAID)
	require.NoError(t, err)
	var names []string
	for _, tp := range got {
		names = append(names, tp.Name)
	}
	require.Equal(t, []string{"order_update", "appointment_reminder", "hello_world", "winter_sale", "spring_sale"}, names)
	pages := 0
	for _, r := range g.Requests() {
		if r.Op == whatsapptest.OpTemplates {
			pages++
		}
	}
	require.Equal(t, 3, pages, "five templates in pages of two")
	require.Equal(t, whatsapp.FormatNamed, got[1].ParameterFormat)
	v := got[0].Vars()
	require.Equal(t, "IMAGE", v.HeaderFormat)
	require.Equal(t, []string{"1", "2"}, v.Body)
	require.True(t, v.Buttons[0].NeedsValue)
	require.Equal(t, "Hi Ana, your order A-1042 has shipped.",
		whatsapp.RenderTemplate(got[0].Components[1].Text, got[0].Examples("BODY")))

	_, err = c.ListTemplates(context.Background(), "999")
	var ae *whatsapp.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 100, ae.Code, "an unknown business account")
}

func TestTemplateSendsAreCheckedAgainstTheCatalogue(t *testing.T) {
	t.Parallel()
	g := whatsapptest.Start(t, whatsapptest.Options{})
	g.SetTemplates(whatsapptest.FixtureWABAID, whatsapptest.FixtureTemplates()...)
	c := g.NewClient(t, "")
	text := func(s string) whatsapp.TemplateParameter {
		return whatsapp.TemplateParameter{Type: whatsapp.ParamText, Text: s}
	}
	named := func(n, s string) whatsapp.TemplateParameter {
		return whatsapp.TemplateParameter{Type: whatsapp.ParamText, ParameterName: n, Text: s}
	}
	image := whatsapp.TemplateComponent{Type: whatsapp.ComponentHeader, Parameters: []whatsapp.TemplateParameter{
		{Type: whatsapp.ParamImage, Image: &whatsapp.MediaRef{ID: "1234"}}}}
	body := func(ps ...whatsapp.TemplateParameter) whatsapp.TemplateComponent {
		return whatsapp.TemplateComponent{Type: whatsapp.ComponentBody, Parameters: ps}
	}
	track := whatsapp.TemplateComponent{Type: whatsapp.ComponentButton, SubType: whatsapp.ButtonURL, Index: 0,
		Parameters: []whatsapp.TemplateParameter{text("A-1042")}}

	for _, tt := range []struct {
		name string
		tpl  whatsapp.Template
		code int // 0: accepted
	}{
		{"complete", whatsapp.Template{Name: "order_update", Language: "en_US",
			Components: []whatsapp.TemplateComponent{image, body(text("Ana"), text("A-1042")), track}}, 0},
		{"named", whatsapp.Template{Name: "appointment_reminder", Language: "en",
			Components: []whatsapp.TemplateComponent{body(named("first_name", "Jo"), named("date", "May 3"))}}, 0},
		{"no variables", whatsapp.Template{Name: "hello_world", Language: "en_US"}, 0},
		{"unknown name", whatsapp.Template{Name: "nope", Language: "en_US"}, 132001},
		{"wrong language", whatsapp.Template{Name: "hello_world", Language: "de"}, 132001},
		{"rejected", whatsapp.Template{Name: "spring_sale", Language: "en_US"}, 132001},
		{"paused", whatsapp.Template{Name: "winter_sale", Language: "en_US"}, 132015},
		{"one body value missing", whatsapp.Template{Name: "order_update", Language: "en_US",
			Components: []whatsapp.TemplateComponent{image, body(text("Ana")), track}}, 132000},
		{"header image missing", whatsapp.Template{Name: "order_update", Language: "en_US",
			Components: []whatsapp.TemplateComponent{body(text("Ana"), text("A-1042")), track}}, 132012},
		{"url button value missing", whatsapp.Template{Name: "order_update", Language: "en_US",
			Components: []whatsapp.TemplateComponent{image, body(text("Ana"), text("A-1042"))}}, 132000},
		{"wrong name", whatsapp.Template{Name: "appointment_reminder", Language: "en",
			Components: []whatsapp.TemplateComponent{body(named("name", "Jo"), named("date", "May 3"))}}, 132000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SendTemplate(context.Background(), whatsapptest.FixtureWaID, tt.tpl)
			if tt.code == 0 {
				require.NoError(t, err)
				return
			}
			var ae *whatsapp.APIError
			require.True(t, errors.As(err, &ae), "%v", err)
			require.Equal(t, tt.code, ae.Code, ae.Error())
		})
	}
}

func TestTemplateSendsAreCheckedAgainstTheirOwnWABAsCatalogue(t *testing.T) {
	t.Parallel()
	const other, otherWABA = "200000000000002", "300000000000003"
	g := whatsapptest.Start(t, whatsapptest.Options{PhoneNumbers: []whatsapp.PhoneNumberInfo{
		{ID: whatsapptest.FixturePhoneNumberID, DisplayPhoneNumber: "+1 555-078-3881"},
		{ID: other, DisplayPhoneNumber: "+1 555-000-0002"},
	}})
	g.SetNumberWABA(other, otherWABA)
	g.SetTemplates(whatsapptest.FixtureWABAID, whatsapptest.FixtureTemplates()...)
	g.SetTemplates(otherWABA, whatsapp.TemplateInfo{Name: "only_here", Language: "en_US", Status: whatsapp.TemplateApproved,
		Components: []whatsapp.TemplateDef{{Type: "BODY", Text: "Hello"}}})

	for _, tt := range []struct {
		number, template string
		code             int
	}{
		{whatsapptest.FixturePhoneNumberID, "hello_world", 0},
		{whatsapptest.FixturePhoneNumberID, "only_here", 132001}, // another account's template
		{other, "only_here", 0},
		{other, "hello_world", 132001},
	} {
		_, err := g.NewClient(t, tt.number).SendTemplate(context.Background(), whatsapptest.FixtureWaID,
			whatsapp.Template{Name: tt.template, Language: "en_US"})
		if tt.code == 0 {
			require.NoError(t, err, "%s from %s", tt.template, tt.number)
			continue
		}
		var ae *whatsapp.APIError
		require.ErrorAs(t, err, &ae, "%s from %s", tt.template, tt.number)
		require.Equal(t, tt.code, ae.Code)
	}
}

func TestRepliesAndReactionsMustNameAMessageOfTheConversation(t *testing.T) {
	t.Parallel()
	g := whatsapptest.Start(t, whatsapptest.Options{})
	c := g.NewClient(t, "")
	d := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Text(whatsapptest.FixtureWaID, "hello")
	other := whatsapptest.NewDelivery(whatsapptest.FixturePhoneNumberID).Text("4915100000001", "someone else")
	g.Received(d)
	g.Received(other)
	ctx := context.Background()

	_, err := c.SendText(ctx, whatsapptest.FixtureWaID, "quoting", false, d.LastID())
	require.NoError(t, err)
	_, err = c.SendReaction(ctx, whatsapptest.FixtureWaID, d.LastID(), "👍")
	require.NoError(t, err)
	ours, err := c.SendText(ctx, whatsapptest.FixtureWaID, "ours", false, "")
	require.NoError(t, err)
	_, err = c.SendText(ctx, whatsapptest.FixtureWaID, "quoting our own", false, ours)
	require.NoError(t, err, "a message the business sent is one of the conversation too")

	for name, send := range map[string]func() error{
		"another customer's message": func() error {
			_, err := c.SendText(ctx, whatsapptest.FixtureWaID, "x", false, other.LastID())
			return err
		},
		"an unknown wamid": func() error {
			_, err := c.SendText(ctx, whatsapptest.FixtureWaID, "x", false, whatsapptest.NewWAMID())
			return err
		},
		"a reaction to another conversation": func() error {
			_, err := c.SendReaction(ctx, whatsapptest.FixtureWaID, other.LastID(), "👍")
			return err
		},
	} {
		var ae *whatsapp.APIError
		require.ErrorAs(t, send(), &ae, name)
		require.Equal(t, 131009, ae.Code, name)
	}
}
