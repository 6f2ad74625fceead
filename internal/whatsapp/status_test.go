package whatsapp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

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
