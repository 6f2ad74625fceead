package zammadtest

import "encoding/json"

// Request bodies, with the field names Zammad's REST API documents
// (docs.zammad.org, api/*). Zammad itself ignores attributes it does not
// know; the fake decodes with DisallowUnknownFields so that a misspelt field
// fails the request with 400 and records a violation instead of being
// silently dropped.

type userRequest struct {
	Firstname      *string  `json:"firstname"`
	Lastname       *string  `json:"lastname"`
	Login          *string  `json:"login"`
	Email          *string  `json:"email"`
	Phone          *string  `json:"phone"`
	Mobile         *string  `json:"mobile"`
	Note           *string  `json:"note"`
	Organization   *string  `json:"organization"`
	OrganizationID *int64   `json:"organization_id"`
	Roles          []string `json:"roles"`
	RoleIDs        []int64  `json:"role_ids"`
	Active         *bool    `json:"active"`
	VIP            *bool    `json:"vip"`
}

type attachmentRequest struct {
	Filename *string `json:"filename"`
	Data     *string `json:"data"`
	MimeType *string `json:"mime-type"`
	Charset  *string `json:"charset"`
}

type articleRequest struct {
	TicketID    *int64              `json:"ticket_id"`
	Subject     *string             `json:"subject"`
	Body        *string             `json:"body"`
	ContentType *string             `json:"content_type"`
	Type        *string             `json:"type"`
	TypeID      *int64              `json:"type_id"`
	Sender      *string             `json:"sender"`
	SenderID    *int64              `json:"sender_id"`
	Internal    *bool               `json:"internal"`
	From        *string             `json:"from"`
	To          *string             `json:"to"`
	CC          *string             `json:"cc"`
	OriginByID  *int64              `json:"origin_by_id"`
	TimeUnit    json.RawMessage     `json:"time_unit"`
	Attachments []attachmentRequest `json:"attachments"`
	Preferences map[string]any      `json:"preferences"`
	FormID      *string             `json:"form_id"`
}

type ticketRequest struct {
	Title       *string         `json:"title"`
	Group       *string         `json:"group"`
	GroupID     *int64          `json:"group_id"`
	CustomerID  *int64          `json:"customer_id"`
	Customer    *string         `json:"customer"`
	State       *string         `json:"state"`
	StateID     *int64          `json:"state_id"`
	Priority    *string         `json:"priority"`
	PriorityID  *int64          `json:"priority_id"`
	OwnerID     *int64          `json:"owner_id"`
	Note        *string         `json:"note"`
	PendingTime *string         `json:"pending_time"`
	Tags        *string         `json:"tags"`
	Preferences map[string]any  `json:"preferences"`
	Links       json.RawMessage `json:"links"`
	Mentions    []int64         `json:"mentions"`
	Article     *articleRequest `json:"article"`
}

type webhookRequest struct {
	Name                  *string         `json:"name"`
	Endpoint              *string         `json:"endpoint"`
	HTTPMethod            *string         `json:"http_method"`
	SignatureToken        *string         `json:"signature_token"`
	SSLVerify             *bool           `json:"ssl_verify"`
	BasicAuthUsername     *string         `json:"basic_auth_username"`
	BasicAuthPassword     *string         `json:"basic_auth_password"`
	BearerToken           *string         `json:"bearer_token"`
	CustomizedPayload     *bool           `json:"customized_payload"`
	CustomPayload         *string         `json:"custom_payload"`
	Note                  *string         `json:"note"`
	Active                *bool           `json:"active"`
	PreDefinedWebhookType *string         `json:"pre_defined_webhook_type"`
	Preferences           json.RawMessage `json:"preferences"`
}

type triggerRequest struct {
	Name                   *string                    `json:"name"`
	Condition              map[string]json.RawMessage `json:"condition"`
	Perform                map[string]json.RawMessage `json:"perform"`
	Activator              *string                    `json:"activator"`
	ExecutionConditionMode *string                    `json:"execution_condition_mode"`
	Active                 *bool                      `json:"active"`
	Note                   *string                    `json:"note"`
	DisableNotification    *bool                      `json:"disable_notification"`
	Localization           *string                    `json:"localization"`
	Timezone               *string                    `json:"timezone"`
}

// conditionValue is one flat trigger condition.
type conditionValue struct {
	Operator     string          `json:"operator"`
	Value        json.RawMessage `json:"value"`
	PreCondition *string         `json:"pre_condition"`
}

// Trigger condition operators Zammad offers.
var operators = []string{
	"is", "is not", "contains", "contains not", "contains all", "contains one", "contains all not", "contains one not",
	"has changed", "has changed to", "starts with", "ends with", "matches regex", "does not match regex",
	"before (absolute)", "after (absolute)", "before (relative)", "after (relative)", "within next (relative)",
	"within last (relative)", "till (relative)", "from (relative)", "is any of", "is none of",
}

// Response bodies.

type userJSON struct {
	ID             int64          `json:"id"`
	OrganizationID *int64         `json:"organization_id"`
	Login          string         `json:"login"`
	Firstname      string         `json:"firstname"`
	Lastname       string         `json:"lastname"`
	Email          string         `json:"email"`
	Image          *string        `json:"image"`
	Web            string         `json:"web"`
	Phone          string         `json:"phone"`
	Fax            string         `json:"fax"`
	Mobile         string         `json:"mobile"`
	Department     string         `json:"department"`
	Street         string         `json:"street"`
	Zip            string         `json:"zip"`
	City           string         `json:"city"`
	Country        string         `json:"country"`
	Address        string         `json:"address"`
	VIP            bool           `json:"vip"`
	Verified       bool           `json:"verified"`
	Active         bool           `json:"active"`
	Note           string         `json:"note"`
	LastLogin      *string        `json:"last_login"`
	Source         *string        `json:"source"`
	LoginFailed    int            `json:"login_failed"`
	OutOfOffice    bool           `json:"out_of_office"`
	Preferences    map[string]any `json:"preferences"`
	UpdatedByID    int64          `json:"updated_by_id"`
	CreatedByID    int64          `json:"created_by_id"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
	RoleIDs        []int64        `json:"role_ids"`
	Roles          []string       `json:"roles,omitempty"`
}

type attachmentJSON struct {
	ID          int64          `json:"id"`
	Filename    string         `json:"filename"`
	Size        string         `json:"size"`
	Preferences map[string]any `json:"preferences"`
	URL         string         `json:"url,omitempty"`
}

type articleJSON struct {
	ID            int64            `json:"id"`
	TicketID      int64            `json:"ticket_id"`
	TypeID        int64            `json:"type_id"`
	SenderID      int64            `json:"sender_id"`
	From          string           `json:"from"`
	To            *string          `json:"to"`
	CC            *string          `json:"cc"`
	Subject       *string          `json:"subject"`
	ReplyTo       *string          `json:"reply_to"`
	MessageID     *string          `json:"message_id"`
	ContentType   string           `json:"content_type"`
	Body          string           `json:"body"`
	Internal      bool             `json:"internal"`
	Preferences   map[string]any   `json:"preferences"`
	UpdatedByID   int64            `json:"updated_by_id"`
	CreatedByID   int64            `json:"created_by_id"`
	OriginByID    *int64           `json:"origin_by_id"`
	CreatedAt     string           `json:"created_at"`
	UpdatedAt     string           `json:"updated_at"`
	Attachments   []attachmentJSON `json:"attachments"`
	Type          string           `json:"type"`
	Sender        string           `json:"sender"`
	CreatedBy     any              `json:"created_by"`
	UpdatedBy     any              `json:"updated_by"`
	OriginBy      *string          `json:"origin_by,omitempty"`
	AccountedTime *int             `json:"accounted_time,omitempty"`
}

type ticketJSON struct {
	ID                    int64          `json:"id"`
	GroupID               int64          `json:"group_id"`
	PriorityID            int64          `json:"priority_id"`
	StateID               int64          `json:"state_id"`
	OrganizationID        *int64         `json:"organization_id"`
	Number                string         `json:"number"`
	Title                 string         `json:"title"`
	OwnerID               int64          `json:"owner_id"`
	CustomerID            int64          `json:"customer_id"`
	Note                  *string        `json:"note"`
	FirstResponseAt       *string        `json:"first_response_at"`
	CloseAt               *string        `json:"close_at"`
	LastCloseAt           *string        `json:"last_close_at"`
	LastContactAt         *string        `json:"last_contact_at"`
	CreateArticleTypeID   int64          `json:"create_article_type_id"`
	CreateArticleSenderID int64          `json:"create_article_sender_id"`
	ArticleCount          int            `json:"article_count"`
	PendingTime           *string        `json:"pending_time"`
	Preferences           map[string]any `json:"preferences"`
	UpdatedByID           int64          `json:"updated_by_id"`
	CreatedByID           int64          `json:"created_by_id"`
	CreatedAt             string         `json:"created_at"`
	UpdatedAt             string         `json:"updated_at"`
	ArticleIDs            []int64        `json:"article_ids"`
	// With expand=true, the names of the associations.
	Group    string `json:"group,omitempty"`
	State    string `json:"state,omitempty"`
	Priority string `json:"priority,omitempty"`
	Owner    string `json:"owner,omitempty"`
	Customer string `json:"customer,omitempty"`
}

type groupJSON struct {
	ID                 int64  `json:"id"`
	Name               string `json:"name"`
	FollowUpPossible   string `json:"follow_up_possible"`
	FollowUpAssignment bool   `json:"follow_up_assignment"`
	ReopenTimeInDays   *int64 `json:"reopen_time_in_days"`
	Active             bool   `json:"active"`
	Note               string `json:"note"`
}

type stateJSON struct {
	ID              int64  `json:"id"`
	StateTypeID     int64  `json:"state_type_id"`
	Name            string `json:"name"`
	DefaultCreate   bool   `json:"default_create"`
	DefaultFollowUp bool   `json:"default_follow_up"`
	Active          bool   `json:"active"`
	StateType       string `json:"state_type,omitempty"`
}

type webhookJSON struct {
	ID                    int64          `json:"id"`
	Name                  string         `json:"name"`
	Endpoint              string         `json:"endpoint"`
	HTTPMethod            string         `json:"http_method"`
	SignatureToken        string         `json:"signature_token"`
	SSLVerify             bool           `json:"ssl_verify"`
	BasicAuthUsername     *string        `json:"basic_auth_username"`
	BasicAuthPassword     string         `json:"basic_auth_password"`
	BearerToken           string         `json:"bearer_token"`
	Note                  string         `json:"note"`
	PreDefinedWebhookType *string        `json:"pre_defined_webhook_type"`
	CustomizedPayload     bool           `json:"customized_payload"`
	CustomPayload         *string        `json:"custom_payload"`
	Preferences           map[string]any `json:"preferences"`
	Active                bool           `json:"active"`
	UpdatedByID           int64          `json:"updated_by_id"`
	CreatedByID           int64          `json:"created_by_id"`
	CreatedAt             string         `json:"created_at"`
	UpdatedAt             string         `json:"updated_at"`
}

type triggerJSON struct {
	ID                     int64                      `json:"id"`
	Name                   string                     `json:"name"`
	Condition              map[string]json.RawMessage `json:"condition"`
	Perform                map[string]json.RawMessage `json:"perform"`
	DisableNotification    bool                       `json:"disable_notification"`
	Note                   *string                    `json:"note"`
	Activator              string                     `json:"activator"`
	ExecutionConditionMode string                     `json:"execution_condition_mode"`
	Active                 bool                       `json:"active"`
	UpdatedByID            int64                      `json:"updated_by_id"`
	CreatedByID            int64                      `json:"created_by_id"`
	CreatedAt              string                     `json:"created_at"`
	UpdatedAt              string                     `json:"updated_at"`
}

// Webhook payload (TriggerWebhookJob::RecordPayload): the ticket with its
// associations as objects, and the article.

type payloadJSON struct {
	Ticket  map[string]any `json:"ticket"`
	Article map[string]any `json:"article"`
}
