package whatsapp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

func TestVersionWarning(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name    string
		version string
		now     time.Time
		want    string // a substring; "" means no warning
	}{
		{"current version, no expiry yet", whatsapp.DefaultVersion, at(2026, time.December, 2), ""},
		{"far from expiry", "v23.0", at(2026, time.December, 2), ""},
		{"91 days before", "v21.0", at(2026, time.October, 22), ""},
		{"90 days before", "v21.0", at(2026, time.October, 23), "expires on January 21, 2027 (in 90 days)"},
		{"a week before", "v21.0", at(2027, time.January, 14), "(in 7 days)"},
		{"on the last day", "v21.0", at(2027, time.January, 21), "(in 1 day)"},
		{"the day after", "v21.0", at(2027, time.January, 22), "expired on January 21, 2027"},
		{"long expired", "v17.0", at(2026, time.December, 2), "expired on September 12, 2025"},
		{"unknown", "v99.0", at(2026, time.December, 2), "does not know Graph API version v99.0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := whatsapp.VersionWarning(tc.version, tc.now)
			if tc.want == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, tc.want)
			require.Contains(t, got, whatsapp.DefaultVersion, "names the version to move to")
		})
	}
	_, ok := whatsapp.LookupVersion(whatsapp.DefaultVersion)
	require.True(t, ok, "the default version is in the table")
}
