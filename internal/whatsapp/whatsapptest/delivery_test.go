package whatsapptest_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestDeliveryBuilder(t *testing.T) {
	t.Parallel()

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	const cust = "447700900123"
	d := whatsapptest.NewDelivery("123").At(at).Name(cust, "Ada").
		Text(cust, "hello").ReplyingTo("wamid.OURS").
		Image(cust, "m1", "image/jpeg", "cap").
		Audio(cust, "m2", "audio/ogg; codecs=opus", true).
		Video(cust, "m3", "video/mp4", "").
		Document(cust, "m4", "application/pdf", "a.pdf", "doc").
		Sticker(cust, "m5", true).
		Location(cust, 1.5, -2.25, "Home", "1 Road").
		Reaction(cust, "wamid.OURS", "❤️").
		Reaction(cust, "wamid.OURS", "").
		ButtonReply(cust, "yes", "Yes").
		Unsupported(cust).
		NumberChanged(cust, "447700900999").
		Text(cust, "newer").With("forwarded_many", true)

	b, err := whatsapp.ParseDelivery(d.Bytes())
	require.NoError(t, err)
	require.Len(t, b.Changes, 1)
	c := b.Changes[0]
	require.Equal(t, "123", c.PhoneNumberID)
	require.Equal(t, "Ada", c.ContactName(cust))
	require.Len(t, c.Contacts, 1)

	m := c.Messages
	require.Len(t, m, 13)
	ids := d.MessageIDs()
	for i := range m {
		require.Equal(t, ids[i], m[i].ID)
		require.Equal(t, at, m[i].Timestamp)
		require.Empty(t, m[i].DecodeError)
	}
	require.Equal(t, ids[12], d.LastID())

	require.Equal(t, "hello", m[0].Text)
	require.Equal(t, &whatsapp.Context{From: whatsapptest.FixtureDisplayPhoneNumber, ID: "wamid.OURS"}, m[0].Context)
	require.Equal(t, "cap", m[1].Media.Caption)
	require.True(t, m[2].Media.Voice)
	require.Equal(t, whatsapp.TypeVideo, m[3].Type)
	require.Equal(t, "a.pdf", m[4].Media.Filename)
	require.True(t, m[5].Media.Animated)
	require.Equal(t, &whatsapp.Location{Lat: 1.5, Lng: -2.25, Name: "Home", Address: "1 Road"}, m[6].Location)
	require.Equal(t, "❤️", m[7].Reaction.Emoji)
	require.True(t, m[8].Reaction.Removed)
	require.Equal(t, "yes", m[9].Interactive.ID)
	require.Equal(t, 131051, m[10].Errors[0].Code)
	require.Equal(t, "447700900999", m[11].System.NewWaID)
	require.Contains(t, string(m[12].Raw), "forwarded_many")
	for _, msg := range m[1:6] {
		require.True(t, msg.IsMedia(), msg.Type)
	}
}

func TestFixtures(t *testing.T) {
	t.Parallel()

	names := whatsapptest.FixtureNames(t)
	require.Contains(t, names, "text.json")
	require.NotContains(t, names, "verification.txt")
	require.Contains(t, string(whatsapptest.Fixture(t, "text.json")), whatsapptest.FixturePhoneNumberID)

	swapped := whatsapptest.FixtureFor(t, "status-read.json", "555")
	require.NotContains(t, string(swapped), whatsapptest.FixturePhoneNumberID)
	require.Contains(t, string(swapped), `"phone_number_id": "555"`)
}

// TestSharedDirOverride cannot run in parallel: it sets the environment.
func TestSharedDirOverride(t *testing.T) {
	real := whatsapptest.SharedDir(t)

	t.Setenv(whatsapptest.SharedDirEnv, real)
	got, err := whatsapptest.FindSharedDir()
	require.NoError(t, err)
	require.Equal(t, real, got)

	empty := t.TempDir()
	t.Setenv(whatsapptest.SharedDirEnv, empty)
	_, err = whatsapptest.FindSharedDir()
	require.ErrorContains(t, err, whatsapptest.SharedDirEnv)

	_, err = os.Stat(filepath.Join(real, "specs", "whatsapp", "business-messaging-api_v23.0.yaml"))
	require.NoError(t, err)
}
