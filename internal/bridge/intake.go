package bridge

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// Rejection reasons of a WhatsApp delivery; each answers 4xx and stores nothing.
const (
	RejectUnsigned  = "unsigned"
	RejectSignature = "signature_mismatch"
	RejectMalformed = "malformed"
	RejectOversized = "oversized"
)

// Intake outcomes of an accepted delivery.
const (
	OutcomeNew           = "new"            // at least one new message or status change
	OutcomeDuplicate     = "duplicate"      // a redelivery: nothing new
	OutcomeAccountEvent  = "account_event"  // only account-level fields
	OutcomeUnknownNumber = "unknown_number" // acknowledged, stored nowhere
)

// RejectError is a delivery refused before anything is stored.
type RejectError struct {
	Reason string
	Err    error
}

func (e *RejectError) Error() string { return "webhook rejected (" + e.Reason + "): " + e.Err.Error() }
func (e *RejectError) Unwrap() error { return e.Err }

// IntakeResult describes an accepted delivery.
type IntakeResult struct {
	Outcome       string
	EventID       int64 // webhook_events row, 0 for unknown numbers
	NewMessages   int
	Duplicates    int
	Statuses      int
	AccountEvents int
	Unknown       []string // phone_number_ids no account has
}

// HandleWhatsAppWebhook authenticates and stores one webhook delivery. On
// success everything it holds is committed, with the jobs that will deliver
// it, and the caller answers 200; a *RejectError means 4xx and nothing stored.
// It makes no network call.
func (b *Bridge) HandleWhatsAppWebhook(ctx context.Context, body []byte, signature string) (IntakeResult, error) {
	var res IntakeResult
	if signature == "" {
		return res, &RejectError{RejectUnsigned, whatsapp.ErrSignatureMissing}
	}
	named, err := whatsapp.PeekAccounts(body)
	if err != nil {
		return res, &RejectError{RejectMalformed, err}
	}
	accounts, secrets, err := b.accounts(ctx, named.PhoneNumberIDs)
	if err != nil {
		return res, err
	}
	if len(named.PhoneNumberIDs) == 0 && len(named.WABAIDs) > 0 {
		// Account-level events name only the business account (rare: read
		// from the database each time).
		if accounts, err = b.store.AccountsByWABAIDs(ctx, named.WABAIDs); err != nil {
			return res, err
		}
		secrets = secrets[:0]
		for _, a := range accounts {
			sec, err := b.store.Secrets(a)
			if err != nil {
				return res, err
			}
			secrets = append(secrets, []byte(sec.AppSecret))
		}
	}
	// A disabled number is treated like an unknown one: acknowledged so
	// Meta stops retrying, and dropped (the admin chose to stop relaying it).
	for i := len(accounts) - 1; i >= 0; i-- {
		if !accounts[i].Enabled {
			accounts = slices.Delete(accounts, i, i+1)
			secrets = slices.Delete(secrets, i, i+1)
		}
	}
	if len(accounts) == 0 {
		res.Outcome, res.Unknown = OutcomeUnknownNumber, named.PhoneNumberIDs
		return res, nil
	}
	matched, err := whatsapp.VerifySignatureAny(secrets, body, signature)
	if err != nil {
		reason := RejectSignature
		if errors.Is(err, whatsapp.ErrSignatureMissing) {
			reason = RejectUnsigned
		}
		return res, &RejectError{reason, err}
	}
	// A delivery is signed by one Meta app: only the numbers configured with
	// that app's secret are vouched for. Changes naming other numbers (of
	// another app, whose secret the sender need not know) are dropped like
	// those of unknown numbers, so one app's secret cannot inject messages
	// or account events for another's numbers.
	signed := accounts[:0:0]
	for i, a := range accounts {
		if hmac.Equal(secrets[i], secrets[matched]) {
			signed = append(signed, a)
		}
	}
	accounts = signed

	batch, err := whatsapp.ParseDelivery(body)
	if err != nil {
		return res, &RejectError{RejectMalformed, err}
	}
	byPhone := map[string]store.Account{}
	for _, a := range accounts {
		byPhone[a.PhoneNumberID] = a
	}

	err = b.store.InTx(ctx, func(tx pgx.Tx) error {
		res = IntakeResult{}
		var jobs []river.InsertManyParams
		for _, ch := range batch.Changes {
			acc, ok := byPhone[ch.PhoneNumberID]
			if !ok {
				res.Unknown = append(res.Unknown, ch.PhoneNumberID)
				continue
			}
			j, err := b.storeChange(ctx, tx, acc, ch, &res)
			if err != nil {
				return err
			}
			jobs = append(jobs, j...)
		}
		for _, ev := range batch.AccountEvents {
			res.AccountEvents++
			if err := b.applyAccountEvent(ctx, tx, accounts, ev); err != nil {
				return err
			}
		}
		res.Outcome = outcome(res)
		var accountID *int64
		if len(accounts) == 1 {
			accountID = &accounts[0].ID
		}
		id, err := b.store.InsertWebhookEvent(ctx, tx, store.WebhookEvent{
			Source: "whatsapp", AccountID: accountID, Outcome: res.Outcome, Body: body,
			Summary: map[string]any{"new": res.NewMessages, "duplicates": res.Duplicates, "statuses": res.Statuses,
				"account_events": res.AccountEvents, "unknown_numbers": res.Unknown},
		})
		if err != nil {
			return err
		}
		res.EventID = id
		if len(jobs) > 0 {
			if _, err := b.jobs.InsertManyTx(ctx, tx, jobs); err != nil {
				return fmt.Errorf("enqueue: %w", err)
			}
		}
		return nil
	})
	return res, err
}

func outcome(r IntakeResult) string {
	switch {
	case r.NewMessages > 0 || r.Statuses > 0:
		return OutcomeNew
	case r.Duplicates > 0:
		return OutcomeDuplicate
	case r.AccountEvents > 0:
		return OutcomeAccountEvent
	}
	return OutcomeDuplicate
}

// storeChange stores one number's messages and statuses and returns the
// jobs to enqueue.
func (b *Bridge) storeChange(ctx context.Context, tx pgx.Tx, acc store.Account, ch whatsapp.Change, res *IntakeResult) ([]river.InsertManyParams, error) {
	var jobs []river.InsertManyParams

	// Group messages by customer, keeping their order.
	var order []string
	byCustomer := map[string][]store.InboundMessage{}
	for _, m := range ch.Messages {
		if m.ID == "" || m.From == "" {
			continue // nothing to key it on; kept in webhook_events
		}
		if m.System != nil && m.System.Type == whatsapp.SystemUserChangedNumber && m.System.NewWaID != "" {
			if err := b.store.RecordNumberChange(ctx, tx, m.From, m.System.NewWaID, m.Timestamp); err != nil {
				return nil, err
			}
		}
		waID := m.From
		if len(ch.Contacts) == 1 {
			waID = ch.Contacts[0].WaID // wa_id is the customer key; from may differ
		}
		if _, ok := byCustomer[waID]; !ok {
			order = append(order, waID)
		}
		byCustomer[waID] = append(byCustomer[waID], inboundMessage(m))
	}
	for _, waID := range order {
		msgs := byCustomer[waID]
		r, err := b.store.RecordInbound(ctx, tx, store.Inbound{
			AccountID: acc.ID, WaID: waID, ProfileName: ch.ContactName(waID), Messages: msgs,
		})
		if err != nil {
			return nil, err
		}
		res.NewMessages += r.Inserted
		res.Duplicates += len(msgs) - r.Inserted
		if r.Enqueue {
			jobs = append(jobs, river.InsertManyParams{Args: DeliverInboundArgs{ConversationID: r.ConversationID}})
		}
		if r.Inserted > 0 {
			if err := b.emitReceived(ctx, tx, acc.ID, r.ConversationID); err != nil {
				return nil, err
			}
			// The customer wrote: the 24-hour window is open again, so
			// replies held for it can go.
			held, err := b.store.ReleaseWaiting(ctx, tx, r.ConversationID)
			if err != nil {
				return nil, err
			}
			if held > 0 {
				queue, err := b.store.MarkQueued(ctx, tx, r.ConversationID, store.DirOut)
				if err != nil {
					return nil, err
				}
				if queue {
					jobs = append(jobs, river.InsertManyParams{Args: SendOutboundArgs{ConversationID: r.ConversationID}})
				}
			}
		}
	}

	for _, st := range ch.Statuses {
		var errJSON json.RawMessage
		if len(st.Errors) > 0 {
			var err error
			if errJSON, err = json.Marshal(st.Errors); err != nil {
				return nil, err
			}
		}
		r, err := b.store.ApplyStatus(ctx, tx, store.StatusUpdate{WAMID: st.ID, Status: st.Status, At: st.Timestamp, Error: errJSON})
		if err != nil {
			return nil, err
		}
		if r.Advanced {
			if err := b.emitStatus(ctx, tx, acc.ID, r.MessageID); err != nil {
				return nil, err
			}
		}
		if r.Advanced || r.FirstFailure {
			res.Statuses++
		} else {
			res.Duplicates++
		}
		if r.FirstFailure {
			jobs = append(jobs, river.InsertManyParams{Args: StatusFailedArgs{MessageID: r.MessageID}})
		}
	}
	if len(ch.Errors) > 0 {
		b.log.Warn("whatsapp reported errors for a number", "account", acc.Name, "errors", fmt.Sprint(ch.Errors))
		if err := b.store.SetAccountHealth(ctx, tx, acc.ID, "degraded", fmt.Sprint(ch.Errors)); err != nil {
			return nil, err
		}
	}
	return jobs, nil
}

// applyAccountEvent surfaces account-level fields as the number's status.
func (b *Bridge) applyAccountEvent(ctx context.Context, tx pgx.Tx, accounts []store.Account, ev whatsapp.AccountEvent) error {
	var v struct {
		Event        string `json:"event"`
		CurrentLimit string `json:"current_limit"`
	}
	_ = json.Unmarshal(ev.Raw, &v) // best effort: the raw event is kept either way
	detail := ev.Field
	if v.Event != "" {
		detail += ": " + v.Event
	}
	if v.CurrentLimit != "" {
		detail += " (limit " + v.CurrentLimit + ")"
	}
	for _, a := range accounts {
		if ev.PhoneNumberID != "" && ev.PhoneNumberID != a.PhoneNumberID {
			continue
		}
		if ev.PhoneNumberID == "" && ev.WABAID != a.WABAID {
			continue
		}
		health := a.Health
		if ev.Field == whatsapp.FieldPhoneNumberQualityUpdate || ev.Field == whatsapp.FieldAccountUpdate {
			health = "attention"
			if v.Event == "UNFLAGGED" || v.Event == "UPGRADE" || v.Event == "ONBOARDING" {
				health = "healthy"
			}
		}
		if err := b.store.SetAccountHealth(ctx, tx, a.ID, health, detail); err != nil {
			return err
		}
	}
	return nil
}

// inboundMessage turns a parsed message into its stored form.
func inboundMessage(m whatsapp.Message) store.InboundMessage {
	im := store.InboundMessage{WAMID: m.ID, Kind: m.Type, Payload: m.Raw, At: m.Timestamp}
	if im.At.IsZero() {
		im.At = time.Now()
	}
	switch {
	case m.Type == whatsapp.TypeText:
		im.Body = m.Text
	case m.Media != nil:
		im.Body = m.Media.Caption
		if b, err := json.Marshal(m.Media); err == nil {
			im.Media = b
		}
	case m.Interactive != nil:
		im.Body = m.Interactive.Title
	case m.Button != nil:
		im.Body = m.Button.Text
	case m.Reaction != nil:
		im.Body = m.Reaction.Emoji
	}
	if m.Type == "" {
		im.Kind = whatsapp.TypeUnknown
	}
	return im
}
