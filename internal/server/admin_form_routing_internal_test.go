package server

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/store"
)

func TestRouteFormNeverPreselectsABrokenHelpdesk(t *testing.T) {
	t.Parallel()
	broken := store.Connection{ID: 1, Name: "old", Kind: "zendesk", Enabled: true, Health: "auth_failed"}
	off := store.Connection{ID: 2, Name: "off", Kind: "zendesk", Enabled: false, Health: "healthy"}
	good := store.Connection{ID: 3, Name: "main", Kind: "freshdesk", Enabled: true, Health: "healthy"}
	selected := func(opts []option) string {
		for _, o := range opts {
			if o.Selected {
				return o.Label
			}
		}
		return "(none)"
	}
	for _, tc := range []struct {
		name   string
		conns  []store.Connection
		chosen string
		want   string
	}{
		{"the first working one", []store.Connection{broken, off, good}, "", "main (freshdesk)"},
		{"none works: the admin chooses", []store.Connection{broken, off}, "", "Choose a helpdesk"},
		{"the admin's choice stays", []store.Connection{broken, good}, "1", "old (zendesk) — credentials refused"},
		{"disabled is said", []store.Connection{off}, "2", "off (zendesk) — disabled"},
	} {
		require.Equal(t, tc.want, selected(connectionOptions(tc.conns, tc.chosen)), tc.name)
	}
}
