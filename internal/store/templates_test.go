package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestTemplateCatalogueIsReplacedWhole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	acc, err := b.store.CreateAccount(ctx, store.NewAccount{Name: "tpl", PhoneNumberID: "71", WABAID: "72",
		GraphURL: "https://graph.facebook.com", GraphVersion: "v23.0", AccessToken: "tok", AppSecret: "sec", VerifyToken: "v",
		SendRate: 80}, store.Actor{Name: "test"})
	require.NoError(t, err)

	all := whatsapptest.FixtureTemplates()
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, b.store.ReplaceTemplates(ctx, acc.ID, all, at))
	got, err := b.store.TemplatesOf(ctx, acc.ID)
	require.NoError(t, err)
	require.Len(t, got, len(all))

	one, err := b.store.TemplateOf(ctx, acc.ID, "appointment_reminder", "en")
	require.NoError(t, err)
	require.Equal(t, whatsapp.FormatNamed, one.ParameterFormat)
	require.Equal(t, all[1].Components, one.Components, "the definition comes back as Graph gave it")
	require.True(t, at.Equal(one.FetchedAt))

	// The next refresh lists only two: the others are gone.
	require.NoError(t, b.store.ReplaceTemplates(ctx, acc.ID, all[:2], at.Add(time.Hour)))
	got, err = b.store.TemplatesOf(ctx, acc.ID)
	require.NoError(t, err)
	require.Len(t, got, 2)
	_, err = b.store.TemplateOf(ctx, acc.ID, "hello_world", "en_US")
	require.True(t, errors.Is(err, store.ErrNotFound), "%v", err)
}
