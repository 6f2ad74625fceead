package whatsapp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

func TestShouldAdvance(t *testing.T) {
	t.Parallel()

	const (
		sent      = whatsapp.StatusSent
		delivered = whatsapp.StatusDelivered
		read      = whatsapp.StatusRead
		failed    = whatsapp.StatusFailed
	)
	tests := []struct {
		current, next string
		want          bool
	}{
		// Normal progression, including a skipped "delivered".
		{"", sent, true},
		{sent, delivered, true},
		{delivered, read, true},
		{sent, read, true},
		{"", read, true},
		// Never backwards; duplicates change nothing.
		{read, delivered, false},
		{read, sent, false},
		{delivered, sent, false},
		{delivered, delivered, false},
		{read, read, false},
		// failed beats sent, but not evidence of delivery.
		{sent, failed, true},
		{"", failed, true},
		{failed, sent, false},
		{failed, failed, false},
		{delivered, failed, false},
		{read, failed, false},
		// Multi-device: delivered/read after failed proves delivery.
		{failed, delivered, true},
		{failed, read, true},
		// Unknown values never overwrite, and are overwritten by known ones.
		{sent, "played", false},
		{"", "played", false},
		{"deleted", sent, true},
	}
	for _, tt := range tests {
		t.Run(tt.current+"->"+tt.next, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, whatsapp.ShouldAdvance(tt.current, tt.next))
		})
	}
}

func TestStatusRank(t *testing.T) {
	t.Parallel()

	require.Less(t, whatsapp.StatusRank(""), whatsapp.StatusRank(whatsapp.StatusSent))
	require.Less(t, whatsapp.StatusRank(whatsapp.StatusSent), whatsapp.StatusRank(whatsapp.StatusFailed))
	require.Less(t, whatsapp.StatusRank(whatsapp.StatusFailed), whatsapp.StatusRank(whatsapp.StatusDelivered))
	require.Less(t, whatsapp.StatusRank(whatsapp.StatusDelivered), whatsapp.StatusRank(whatsapp.StatusRead))
	require.Equal(t, 0, whatsapp.StatusRank("SENT"), "status values are case-sensitive")
}

func TestErrorJSONRoundTrip(t *testing.T) {
	t.Parallel()

	e := whatsapp.Error{Code: 131047, Title: "Re-engagement message", Message: "m", Details: "d", Href: "https://h"}
	data, err := e.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, `{"code":131047,"title":"Re-engagement message","message":"m","href":"https://h","error_data":{"details":"d"}}`, string(data))

	var back whatsapp.Error
	require.NoError(t, back.UnmarshalJSON(data))
	require.Equal(t, e, back)
	require.Equal(t, "131047 Re-engagement message: d", e.String())

	// Codes sent as strings are accepted.
	require.NoError(t, back.UnmarshalJSON([]byte(`{"code":"131051","title":"t"}`)))
	require.Equal(t, whatsapp.Error{Code: 131051, Title: "t"}, back)
}
