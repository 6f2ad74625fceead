package store

// Row ids, one type per table, so that passing a ConnectionID where an
// AccountID is expected does not compile. Each is an int64: pgx encodes and
// scans them (and slices of them, for = ANY($1)) as bigint, and JSON writes
// them as plain numbers, so River job args can hold them.
type (
	// AccountID names a whatsapp_accounts row.
	AccountID int64
	// ConnectionID names a helpdesk_connections row.
	ConnectionID int64
	// RouteID names a routes row.
	RouteID int64
	// ContactID names a contacts row.
	ContactID int64
	// ConversationID names a conversations row.
	ConversationID int64
	// TicketID names a tickets row.
	TicketID int64
	// MessageID names a messages row.
	MessageID int64
	// WebhookEventID names a webhook_events row.
	WebhookEventID int64
	// AdminID names an admin_users row.
	AdminID int64
	// AuditID names an audit_log row.
	AuditID int64
	// ClientID names an api_clients row (not the public client_id string).
	ClientID int64
	// GrantID names an api_grants row.
	GrantID int64
	// SubscriptionID names an api_subscriptions row.
	SubscriptionID int64
	// EventID names an api_events row.
	EventID int64
	// DeliveryID names an api_deliveries row.
	DeliveryID int64
)
