package zendesktest

import "encoding/json"

// Request bodies, with the field names the Zendesk Ticketing API documents.
// The fake decodes them with DisallowUnknownFields: a misspelt or invented
// field fails the request with 400 and records a violation.

type userRequest struct {
	User *userFields `json:"user"`
}

type userFields struct {
	Name            *string         `json:"name"`
	Email           *string         `json:"email"`
	Phone           *string         `json:"phone"`
	ExternalID      *string         `json:"external_id"`
	Role            *string         `json:"role"`
	Verified        *bool           `json:"verified"`
	SkipVerifyEmail *bool           `json:"skip_verify_email"`
	Details         *string         `json:"details"`
	Notes           *string         `json:"notes"`
	Locale          *string         `json:"locale"`
	TimeZone        *string         `json:"time_zone"`
	Tags            []string        `json:"tags"`
	OrganizationID  *int64          `json:"organization_id"`
	UserFields      json.RawMessage `json:"user_fields"`
}

type ticketRequest struct {
	Ticket *ticketFields `json:"ticket"`
}

type ticketFields struct {
	Subject             *string         `json:"subject"`
	Comment             *commentFields  `json:"comment"`
	RequesterID         *int64          `json:"requester_id"`
	SubmitterID         *int64          `json:"submitter_id"`
	AssigneeID          *int64          `json:"assignee_id"`
	GroupID             *int64          `json:"group_id"`
	OrganizationID      *int64          `json:"organization_id"`
	BrandID             *int64          `json:"brand_id"`
	TicketFormID        *int64          `json:"ticket_form_id"`
	Status              *string         `json:"status"`
	Priority            *string         `json:"priority"`
	Type                *string         `json:"type"`
	Tags                []string        `json:"tags"`
	AdditionalTags      []string        `json:"additional_tags"`
	RemoveTags          []string        `json:"remove_tags"`
	ExternalID          *string         `json:"external_id"`
	ViaFollowupSourceID *int64          `json:"via_followup_source_id"`
	CustomFields        json.RawMessage `json:"custom_fields"`
	SafeUpdate          *bool           `json:"safe_update"`
	UpdatedStamp        *string         `json:"updated_stamp"`
}

type commentFields struct {
	Body     *string  `json:"body"`
	HTMLBody *string  `json:"html_body"`
	Public   *bool    `json:"public"`
	AuthorID *int64   `json:"author_id"`
	Uploads  []string `json:"uploads"`
}

type webhookRequest struct {
	Webhook *webhookFields `json:"webhook"`
}

type webhookFields struct {
	Name           *string         `json:"name"`
	Description    *string         `json:"description"`
	Endpoint       *string         `json:"endpoint"`
	HTTPMethod     *string         `json:"http_method"`
	RequestFormat  *string         `json:"request_format"`
	Status         *string         `json:"status"`
	Subscriptions  []string        `json:"subscriptions"`
	Authentication json.RawMessage `json:"authentication"`
	CustomHeaders  json.RawMessage `json:"custom_headers"`
}

// Response bodies.

type userJSON struct {
	ID         int64   `json:"id"`
	URL        string  `json:"url"`
	Name       string  `json:"name"`
	Email      *string `json:"email"`
	Phone      *string `json:"phone"`
	ExternalID *string `json:"external_id"`
	Role       string  `json:"role"`
	Verified   bool    `json:"verified"`
	Active     bool    `json:"active"`
	CreatedAt  string  `json:"created_at"`
	UpdatedAt  string  `json:"updated_at"`
}

type viaJSON struct {
	Channel string         `json:"channel"`
	Source  *viaSourceJSON `json:"source"`
}

type viaSourceJSON struct {
	From map[string]any `json:"from"`
	To   map[string]any `json:"to"`
	Rel  *string        `json:"rel"`
}

type ticketJSON struct {
	ID          int64    `json:"id"`
	URL         string   `json:"url"`
	Subject     string   `json:"subject"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	RequesterID int64    `json:"requester_id"`
	SubmitterID int64    `json:"submitter_id"`
	AssigneeID  *int64   `json:"assignee_id"`
	Tags        []string `json:"tags"`
	ExternalID  *string  `json:"external_id"`
	FollowupIDs []int64  `json:"followup_ids"`
	Via         viaJSON  `json:"via"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

type attachmentJSON struct {
	ID               int64  `json:"id"`
	URL              string `json:"url"`
	FileName         string `json:"file_name"`
	ContentURL       string `json:"content_url"`
	MappedContentURL string `json:"mapped_content_url"`
	ContentType      string `json:"content_type"`
	Size             int64  `json:"size"`
	Inline           bool   `json:"inline"`
	Deleted          bool   `json:"deleted"`
	Thumbnails       []any  `json:"thumbnails"`
}

type commentJSON struct {
	ID          int64            `json:"id"`
	Type        string           `json:"type"`
	AuthorID    int64            `json:"author_id"`
	Body        string           `json:"body"`
	HTMLBody    string           `json:"html_body"`
	PlainBody   string           `json:"plain_body"`
	Public      bool             `json:"public"`
	Attachments []attachmentJSON `json:"attachments"`
	AuditID     int64            `json:"audit_id"`
	Via         viaJSON          `json:"via"`
	CreatedAt   string           `json:"created_at"`
}

type auditJSON struct {
	ID        int64  `json:"id"`
	TicketID  int64  `json:"ticket_id"`
	AuthorID  int64  `json:"author_id"`
	CreatedAt string `json:"created_at"`
	Events    []any  `json:"events"`
}

type webhookJSON struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	Endpoint      string   `json:"endpoint"`
	HTTPMethod    string   `json:"http_method"`
	RequestFormat string   `json:"request_format"`
	Status        string   `json:"status"`
	Subscriptions []string `json:"subscriptions"`
	CreatedAt     string   `json:"created_at"`
	CreatedBy     string   `json:"created_by"`
}

type cursorMeta struct {
	HasMore      bool   `json:"has_more"`
	AfterCursor  string `json:"after_cursor"`
	BeforeCursor string `json:"before_cursor"`
}

type cursorLinks struct {
	Next string `json:"next"`
	Prev string `json:"prev"`
}

type errorJSON struct {
	Error       string `json:"error"`
	Description string `json:"description,omitempty"`
	Details     any    `json:"details,omitempty"`
}

// Webhook event payloads (event subscriptions). Ids are strings, statuses
// upper case, as in Zendesk's ticket event schema.

type eventJSON struct {
	AccountID           int64      `json:"account_id"`
	Detail              detailJSON `json:"detail"`
	Event               any        `json:"event"`
	ID                  string     `json:"id"`
	Subject             string     `json:"subject"`
	Time                string     `json:"time"`
	Type                string     `json:"type"`
	ZendeskEventVersion string     `json:"zendesk_event_version"`
}

type detailJSON struct {
	ActorID        string   `json:"actor_id"`
	AssigneeID     *string  `json:"assignee_id"`
	BrandID        string   `json:"brand_id"`
	CreatedAt      string   `json:"created_at"`
	Description    string   `json:"description"`
	ExternalID     *string  `json:"external_id"`
	FormID         string   `json:"form_id"`
	GroupID        *string  `json:"group_id"`
	ID             string   `json:"id"`
	IsPublic       bool     `json:"is_public"`
	OrganizationID *string  `json:"organization_id"`
	Priority       *string  `json:"priority"`
	RequesterID    string   `json:"requester_id"`
	Status         string   `json:"status"`
	Subject        string   `json:"subject"`
	SubmitterID    string   `json:"submitter_id"`
	Tags           []string `json:"tags"`
	Type           *string  `json:"type"`
	UpdatedAt      string   `json:"updated_at"`
	Via            struct {
		Channel string `json:"channel"`
	} `json:"via"`
}

type commentEventJSON struct {
	Comment struct {
		ID       string `json:"id"`
		Body     string `json:"body"`
		IsPublic bool   `json:"is_public"`
		Author   struct {
			ID      string `json:"id"`
			IsStaff bool   `json:"is_staff"`
			Name    string `json:"name"`
		} `json:"author"`
	} `json:"comment"`
}

type statusEventJSON struct {
	Current  string `json:"current"`
	Previous string `json:"previous"`
}
