package bridge

// The River job arguments of the bridge's work. Each names rows by id; the
// workers in internal/jobs decode them and call the bridge. The ids are
// typed; their JSON is a plain number.

import (
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/store"
)

// DeliverInboundArgs asks for a conversation's pending customer messages to
// be posted to its helpdesk ticket, in order.
type DeliverInboundArgs struct {
	ConversationID store.ConversationID `json:"conversation_id"`
}

// Kind is the job kind.
func (DeliverInboundArgs) Kind() string { return "deliver_inbound" }

// SendOutboundArgs asks for a conversation's pending agent replies to be
// sent to WhatsApp, in order.
type SendOutboundArgs struct {
	ConversationID store.ConversationID `json:"conversation_id"`
}

// Kind is the job kind.
func (SendOutboundArgs) Kind() string { return "send_outbound" }

// ReplyQueue is the River queue of the jobs that send agents' replies to
// WhatsApp, with workers of its own (RELAYDESK_REPLY_WORKERS): a backlog of
// customer messages, whose jobs hold their workers through the settle
// window, never makes a reply wait for a free worker.
const ReplyQueue = "replies"

// InsertOpts puts the job in ReplyQueue.
func (SendOutboundArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: ReplyQueue} }

// StatusFailedArgs asks for a WhatsApp delivery failure of an outbound
// message to be reported on the ticket as an internal note.
type StatusFailedArgs struct {
	MessageID store.MessageID `json:"message_id"`
}

// Kind is the job kind.
func (StatusFailedArgs) Kind() string { return "status_failed" }

// AddNoteArgs asks for an internal note on a ticket (why a reply was not
// delivered, a WhatsApp failure...). A job of its own, so the note survives
// a helpdesk outage.
type AddNoteArgs struct {
	TicketID store.TicketID `json:"ticket_id"`
	Body     string         `json:"body"`
	Key      string         `json:"key"`
}

// Kind is the job kind.
func (AddNoteArgs) Kind() string { return "add_note" }

// PollArgs asks for one helpdesk connection without webhooks to be polled.
type PollArgs struct {
	ConnectionID store.ConnectionID `json:"connection_id"`
}

// Kind is the job kind.
func (PollArgs) Kind() string { return "poll_connection" }

// SchedulePollsArgs asks for every polling connection that is due to get a
// poll job.
type SchedulePollsArgs struct{}

// Kind is the job kind.
func (SchedulePollsArgs) Kind() string { return "schedule_polls" }

// SweepArgs asks for stalled conversations to be queued again.
type SweepArgs struct{}

// Kind is the job kind.
func (SweepArgs) Kind() string { return "sweep_stalled" }

// ProvisionWebhookArgs asks for a connection's helpdesk-side webhook to be
// installed (or adopted) at the service's callback URL.
type ProvisionWebhookArgs struct {
	ConnectionID store.ConnectionID `json:"connection_id"`
}

// Kind is the job kind.
func (ProvisionWebhookArgs) Kind() string { return "provision_webhook" }
