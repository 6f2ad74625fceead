// Package all registers every connector kind. Import it for its side
// effect, once, in the binary's main package:
//
//	import _ "github.com/relaydesk/relaydesk/connectors/all"
//
// Adding a helpdesk means adding its package to the list below.
package all

import (
	// Chatwoot (Application API v1).
	_ "github.com/relaydesk/relaydesk/connectors/chatwoot"
	// Freshdesk (API v2).
	_ "github.com/relaydesk/relaydesk/connectors/freshdesk"
	// Request Tracker 5 (REST2).
	_ "github.com/relaydesk/relaydesk/connectors/rt"
	// Zammad (REST API v1).
	_ "github.com/relaydesk/relaydesk/connectors/zammad"
	// Zendesk Support.
	_ "github.com/relaydesk/relaydesk/connectors/zendesk"
)
