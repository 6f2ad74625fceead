package chatwoottest

import "encoding/json"

// Request bodies, with the field names Chatwoot's Application API documents
// (swagger/definitions/request/...; source_id and echo_id of a message are
// read by Chatwoot's MessageBuilder). The fake decodes them with
// DisallowUnknownFields: a misspelt or invented field fails the request with
// 400 and records a violation.

type contactRequest struct {
	InboxID              *int64          `json:"inbox_id"`
	Name                 *string         `json:"name"`
	Email                *string         `json:"email"`
	Blocked              *bool           `json:"blocked"`
	AccountOwnerID       *int64          `json:"account_owner_id"`
	PhoneNumber          *string         `json:"phone_number"`
	AvatarURL            *string         `json:"avatar_url"`
	Identifier           *string         `json:"identifier"`
	AdditionalAttributes json.RawMessage `json:"additional_attributes"`
	CustomAttributes     json.RawMessage `json:"custom_attributes"`
}

type contactInboxRequest struct {
	InboxID  *int64  `json:"inbox_id"`
	SourceID *string `json:"source_id"`
}

type conversationRequest struct {
	SourceID             *string         `json:"source_id"`
	InboxID              *int64          `json:"inbox_id"`
	ContactID            *int64          `json:"contact_id"`
	AdditionalAttributes map[string]any  `json:"additional_attributes"`
	CustomAttributes     json.RawMessage `json:"custom_attributes"`
	Status               *string         `json:"status"`
	AssigneeID           *int64          `json:"assignee_id"`
	TeamID               *int64          `json:"team_id"`
	SnoozedUntil         *string         `json:"snoozed_until"`
	Message              *struct {
		Content        *string         `json:"content"`
		TemplateParams json.RawMessage `json:"template_params"`
	} `json:"message"`
}

type messageRequest struct {
	Content           *string         `json:"content"`
	MessageType       *string         `json:"message_type"`
	Private           *bool           `json:"private"`
	ContentType       *string         `json:"content_type"`
	ContentAttributes json.RawMessage `json:"content_attributes"`
	CampaignID        *int64          `json:"campaign_id"`
	AttachmentIDs     []int64         `json:"attachment_ids"`
	TemplateParams    json.RawMessage `json:"template_params"`
	SourceID          *string         `json:"source_id"`
	EchoID            *string         `json:"echo_id"`
}

// multipartMessageFields are the form fields a multipart message may carry,
// besides the files in attachments[].
var multipartMessageFields = []string{"content", "message_type", "private", "content_type", "content_attributes", "source_id", "echo_id", "campaign_id"}

type labelsRequest struct {
	Labels []string `json:"labels"`
}

type webhookRequest struct {
	URL           *string  `json:"url"`
	Name          *string  `json:"name"`
	Subscriptions []string `json:"subscriptions"`
	InboxID       *int64   `json:"inbox_id"`
}

// webhookEvents are the subscriptions the webhooks API accepts.
var webhookEvents = []string{
	"conversation_created", "conversation_viewed", "conversation_status_changed", "conversation_updated", "message_created",
	"message_updated", "contact_created", "contact_updated", "webwidget_triggered", "conversation_typing_on", "conversation_typing_off",
}

// Response bodies.

type contactInboxJSON struct {
	SourceID string        `json:"source_id"`
	Inbox    inboxSlimJSON `json:"inbox"`
}

type inboxSlimJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ChannelType string `json:"channel_type"`
}

type contactJSON struct {
	AdditionalAttributes map[string]any     `json:"additional_attributes"`
	AvailabilityStatus   string             `json:"availability_status"`
	Email                *string            `json:"email"`
	ID                   int64              `json:"id"`
	Name                 string             `json:"name"`
	PhoneNumber          *string            `json:"phone_number"`
	Identifier           *string            `json:"identifier"`
	Thumbnail            string             `json:"thumbnail"`
	CustomAttributes     map[string]any     `json:"custom_attributes"`
	LastActivityAt       *int64             `json:"last_activity_at"`
	CreatedAt            int64              `json:"created_at"`
	ContactInboxes       []contactInboxJSON `json:"contact_inboxes,omitempty"`
}

type senderJSON struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Email     *string `json:"email,omitempty"`
	Phone     *string `json:"phone_number,omitempty"`
	Thumbnail string  `json:"thumbnail"`
}

type attachmentJSON struct {
	ID        int64   `json:"id"`
	MessageID int64   `json:"message_id"`
	FileType  string  `json:"file_type"`
	AccountID int64   `json:"account_id"`
	Extension *string `json:"extension"`
	DataURL   string  `json:"data_url"`
	ThumbURL  string  `json:"thumb_url"`
	FileSize  int64   `json:"file_size"`
	Width     *int    `json:"width"`
	Height    *int    `json:"height"`
}

// messageJSON is a message as the messages API renders it (push_event_data:
// numeric message_type, Unix created_at).
type messageJSON struct {
	ID                int64            `json:"id"`
	Content           *string          `json:"content"`
	InboxID           int64            `json:"inbox_id"`
	ConversationID    int64            `json:"conversation_id"`
	MessageType       int              `json:"message_type"`
	ContentType       string           `json:"content_type"`
	ContentAttributes map[string]any   `json:"content_attributes"`
	CreatedAt         int64            `json:"created_at"`
	Private           bool             `json:"private"`
	SourceID          *string          `json:"source_id"`
	Sender            *senderJSON      `json:"sender,omitempty"`
	Attachments       []attachmentJSON `json:"attachments,omitempty"`
}

type conversationMetaJSON struct {
	Sender       senderJSON `json:"sender"`
	Channel      string     `json:"channel"`
	HmacVerified bool       `json:"hmac_verified"`
}

type conversationJSON struct {
	Meta                 conversationMetaJSON `json:"meta"`
	ID                   int64                `json:"id"`
	Messages             []messageJSON        `json:"messages"`
	AccountID            int64                `json:"account_id"`
	UUID                 string               `json:"uuid"`
	AdditionalAttributes map[string]any       `json:"additional_attributes"`
	AgentLastSeenAt      int64                `json:"agent_last_seen_at"`
	CanReply             bool                 `json:"can_reply"`
	ContactLastSeenAt    int64                `json:"contact_last_seen_at"`
	CustomAttributes     map[string]any       `json:"custom_attributes"`
	InboxID              int64                `json:"inbox_id"`
	Labels               []string             `json:"labels"`
	Muted                bool                 `json:"muted"`
	SnoozedUntil         *string              `json:"snoozed_until"`
	Status               string               `json:"status"`
	CreatedAt            int64                `json:"created_at"`
	Timestamp            int64                `json:"timestamp"`
	UnreadCount          int                  `json:"unread_count"`
	LastActivityAt       int64                `json:"last_activity_at"`
	Priority             *string              `json:"priority"`
	WaitingSince         int64                `json:"waiting_since"`
}

type webhookJSON struct {
	ID            int64          `json:"id"`
	Name          string         `json:"name"`
	URL           string         `json:"url"`
	AccountID     int64          `json:"account_id"`
	Subscriptions []string       `json:"subscriptions"`
	Secret        *string        `json:"secret,omitempty"`
	Inbox         *inboxSlimJSON `json:"inbox,omitempty"`
}

// legacyWebhookJSON is a webhook as Chatwoot renders it before 4.11.2,
// without the secret key.
type legacyWebhookJSON struct {
	ID            int64          `json:"id"`
	Name          string         `json:"name"`
	URL           string         `json:"url"`
	AccountID     int64          `json:"account_id"`
	Subscriptions []string       `json:"subscriptions"`
	Inbox         *inboxSlimJSON `json:"inbox,omitempty"`
}

// Webhook payloads (webhook_data).

type webhookSenderJSON struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Avatar string  `json:"avatar,omitempty"`
	Email  *string `json:"email,omitempty"`
}

type webhookConversationJSON struct {
	AdditionalAttributes map[string]any       `json:"additional_attributes"`
	CanReply             bool                 `json:"can_reply"`
	Channel              string               `json:"channel"`
	ContactInbox         map[string]any       `json:"contact_inbox"`
	ID                   int64                `json:"id"`
	InboxID              int64                `json:"inbox_id"`
	Messages             []messageJSON        `json:"messages"`
	Labels               []string             `json:"labels"`
	Meta                 conversationMetaJSON `json:"meta"`
	Status               string               `json:"status"`
	CustomAttributes     map[string]any       `json:"custom_attributes"`
	SnoozedUntil         *string              `json:"snoozed_until"`
	UnreadCount          int                  `json:"unread_count"`
	FirstReplyCreatedAt  *string              `json:"first_reply_created_at"`
	Priority             *string              `json:"priority"`
	WaitingSince         int64                `json:"waiting_since"`
	AgentLastSeenAt      int64                `json:"agent_last_seen_at"`
	ContactLastSeenAt    int64                `json:"contact_last_seen_at"`
	LastActivityAt       int64                `json:"last_activity_at"`
	Timestamp            int64                `json:"timestamp"`
	CreatedAt            int64                `json:"created_at"`
	UpdatedAt            float64              `json:"updated_at"`
}

type messageCreatedJSON struct {
	Account              map[string]any          `json:"account"`
	AdditionalAttributes map[string]any          `json:"additional_attributes"`
	ContentAttributes    map[string]any          `json:"content_attributes"`
	ContentType          string                  `json:"content_type"`
	Content              *string                 `json:"content"`
	Conversation         webhookConversationJSON `json:"conversation"`
	CreatedAt            string                  `json:"created_at"`
	ID                   int64                   `json:"id"`
	Inbox                map[string]any          `json:"inbox"`
	MessageType          string                  `json:"message_type"`
	Private              bool                    `json:"private"`
	Sender               *webhookSenderJSON      `json:"sender"`
	SourceID             *string                 `json:"source_id"`
	Attachments          []attachmentJSON        `json:"attachments,omitempty"`
	Event                string                  `json:"event"`
}

type statusChangedJSON struct {
	webhookConversationJSON
	Event             string           `json:"event"`
	ChangedAttributes []map[string]any `json:"changed_attributes"`
}
