package bridge

import (
	"cmp"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	Outcome     string
	EventID     store.WebhookEventID // webhook_events row, 0 for unknown numbers
	NewMessages int
	// Conversations are the conversations that got new messages, in order
	// (for the request's log line).
	Conversations []store.ConversationID
	// NewByNumber counts the new messages by number (account name).
	NewByNumber map[string]int
	Duplicates  int
	Statuses    int
	// ForeignStatuses counts statuses naming a message of another number
	// than the one they were delivered for; they change nothing.
	ForeignStatuses int
	AccountEvents   int
	// ClampedTimestamps counts messages dated outside the sane range,
	// stored with the arrival time instead.
	ClampedTimestamps int
	// Placeholders counts messages PostgreSQL refused as received, stored
	// as a visible placeholder instead; Unstorable those that could not be
	// stored at all (kept only in the raw event).
	Placeholders, Unstorable int
	// UnknownCount counts the changes for phone_number_ids no account has;
	// Unknown names the first few (see maxUnknownIDs), so one body listing
	// thousands of ids costs no more than a few in logs and summaries.
	UnknownCount int
	Unknown      []string
	// SignedNoteNeeded: the delivery's number is not yet known as verified
	// and healthy, so the caller records what its signature proves.
	SignedNoteNeeded bool

	// group holds what a group commit already stored for this delivery
	// (nil when it is stored alone).
	group *groupMemo
}

// maxUnknownIDs is how many unknown phone_number_ids a result names.
const maxUnknownIDs = 5

func (r *IntakeResult) noteUnknown(id string) {
	r.UnknownCount++
	if len(r.Unknown) < maxUnknownIDs {
		r.Unknown = append(r.Unknown, id)
	}
}

// HandleWhatsAppWebhook authenticates and stores one webhook delivery. On
// success everything it holds is committed, with the jobs that will deliver
// it, and the caller answers 200; a *RejectError means 4xx and nothing stored.
// It makes no network call. The body is parsed once; the accounts it names
// are read for each delivery (replicas share no cache), then the signature
// is checked over the raw body before anything is stored.
func (b *Bridge) HandleWhatsAppWebhook(ctx context.Context, body []byte, signature string) (IntakeResult, error) {
	var res IntakeResult
	if signature == "" {
		return res, &RejectError{RejectUnsigned, whatsapp.ErrSignatureMissing}
	}
	batch, err := whatsapp.ParseDelivery(body)
	if err != nil {
		return res, &RejectError{RejectMalformed, err}
	}
	// The deadline covers the numbers' lookup too: a database that does
	// not answer gets a retriable 503, not a request left hanging.
	ctx, cancel := context.WithTimeout(ctx, b.intakeDeadline)
	defer cancel()
	phoneIDs := batch.PhoneNumberIDs()
	accounts, secrets, err := b.namedAccounts(ctx, phoneIDs, batch.WABAIDs())
	if err != nil {
		return res, pastDeadline(ctx, err)
	}
	if len(accounts) == 0 {
		res.Outcome = OutcomeUnknownNumber
		for _, id := range phoneIDs {
			res.noteUnknown(id)
		}
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
	accounts = signedBy(accounts, secrets, secrets[matched])
	r := &intakeRequest{body: body, batch: batch, accounts: accounts}
	if b.gather != nil {
		return b.gather.do(ctx, r)
	}
	res, err = b.storeAlone(ctx, r)
	return res, pastDeadline(ctx, err)
}

// pastDeadline turns an error of a delivery that ran out of its intake
// deadline into ErrIntakeDeadline, which the caller answers with a
// retriable 503.
func pastDeadline(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, ErrIntakeDeadline) {
		return err
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrIntakeDeadline, err)
	}
	return err
}

// intakeRequest is one signed delivery to store, with the accounts its
// signature vouches for.
type intakeRequest struct {
	body     []byte
	batch    *whatsapp.Batch
	accounts []store.Account
}

// storeAlone stores one delivery in a transaction of its own.
func (b *Bridge) storeAlone(ctx context.Context, r *intakeRequest) (IntakeResult, error) {
	var res IntakeResult
	err := b.store.InTx(ctx, func(tx *store.Tx) error {
		res = IntakeResult{}
		jobs, err := b.storeBatch(ctx, tx, r.accounts, r.batch, &res)
		if err != nil {
			return err
		}
		id, err := tx.InsertWebhookEvent(ctx, webhookEvent(r, &res))
		if err != nil {
			return err
		}
		res.EventID = id
		return b.enqueue(ctx, tx, jobs)
	})
	return res, err
}

// webhookEvent is the raw event row of a delivery whose changes res
// describes; it also sets res.Outcome and res.SignedNoteNeeded.
func webhookEvent(r *intakeRequest, res *IntakeResult) store.WebhookEvent {
	res.Outcome = outcome(*res)
	var accountID *store.AccountID
	if len(r.accounts) == 1 {
		a := r.accounts[0]
		accountID = &a.ID
		res.SignedNoteNeeded = a.VerifiedAt == nil || a.Health == "unknown"
	}
	return store.WebhookEvent{
		Source: "whatsapp", AccountID: accountID, Outcome: res.Outcome, Body: r.body,
		Summary: compactSummary(map[string]any{"new": res.NewMessages, "duplicates": res.Duplicates, "statuses": res.Statuses,
			"account_events": res.AccountEvents, "unknown_numbers": res.Unknown, "unknown_count": res.UnknownCount, "clamped_timestamps": res.ClampedTimestamps,
			"placeholders": res.Placeholders, "unstorable": res.Unstorable, "foreign_statuses": res.ForeignStatuses}),
	}
}

// compactSummary leaves out a summary's zero counts and empty lists: the
// admin page shows them as absent anyway, and every raw event stores its
// summary (about 150 bytes a delivery less).
func compactSummary(m map[string]any) map[string]any {
	for k, v := range m {
		switch v := v.(type) {
		case int:
			if v == 0 {
				delete(m, k)
			}
		case []string:
			if len(v) == 0 {
				delete(m, k)
			}
		}
	}
	return m
}

// namedAccounts reads the enabled accounts a delivery names, with their
// app secrets: by phone number id, or by business account id when the
// delivery names no number (account-level events). A disabled number is
// treated like an unknown one: acknowledged so Meta stops retrying, and
// dropped (the admin chose to stop relaying it).
func (b *Bridge) namedAccounts(ctx context.Context, phoneIDs, wabaIDs []string) ([]store.Account, [][]byte, error) {
	var found []store.Account
	var err error
	switch {
	case len(phoneIDs) > 0:
		found, err = b.store.AccountsByPhoneNumberIDs(ctx, phoneIDs)
	case len(wabaIDs) > 0:
		found, err = b.store.AccountsByWABAIDs(ctx, wabaIDs)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load accounts: %w", err)
	}
	var accounts []store.Account
	var secrets [][]byte
	for _, a := range found {
		if !a.Enabled {
			continue
		}
		sec, err := b.store.Secrets(a)
		if err != nil {
			return nil, nil, fmt.Errorf("open secrets of %s: %w", a.Name, err)
		}
		accounts, secrets = append(accounts, a), append(secrets, []byte(sec.AppSecret))
	}
	return accounts, secrets, nil
}

// signedBy keeps the accounts configured with the secret that signed the
// delivery. A delivery is signed by one Meta app: only its numbers are
// vouched for. Changes naming other numbers (of another app, whose secret
// the sender need not know) are dropped like those of unknown numbers, so
// one app's secret cannot inject messages or account events for another's
// numbers.
func signedBy(accounts []store.Account, secrets [][]byte, secret []byte) []store.Account {
	var signed []store.Account
	for i, a := range accounts {
		if hmac.Equal(secrets[i], secret) {
			signed = append(signed, a)
		}
	}
	return signed
}

// storeBatch stores the changes of the vouched-for numbers and the account
// events, and returns the jobs to enqueue.
func (b *Bridge) storeBatch(ctx context.Context, tx *store.Tx, accounts []store.Account, batch *whatsapp.Batch, res *IntakeResult) ([]river.InsertManyParams, error) {
	byPhone := map[string]store.Account{}
	for _, a := range accounts {
		byPhone[a.PhoneNumberID] = a
	}
	var jobs []river.InsertManyParams
	for _, ch := range batch.Changes {
		acc, ok := byPhone[ch.PhoneNumberID]
		if !ok && ch.PhoneNumberID == "" && ch.Field == whatsapp.FieldMessagingHandovers {
			acc, ok = onlyAccountOf(accounts, ch.WABAID) // a handover naming no number [unverified shape]
		}
		if !ok {
			res.noteUnknown(ch.PhoneNumberID)
			continue
		}
		j, err := b.storeChange(ctx, tx, acc, ch, res)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j...)
	}
	for _, ev := range batch.AccountEvents {
		res.AccountEvents++
		if err := b.applyAccountEvent(ctx, tx, accounts, ev); err != nil {
			return nil, err
		}
	}
	return jobs, nil
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
func (b *Bridge) storeChange(ctx context.Context, tx *store.Tx, acc store.Account, ch whatsapp.Change, res *IntakeResult) ([]river.InsertManyParams, error) {
	var jobs []river.InsertManyParams
	// A BSUID change is applied first, so the system message and any later
	// message under the new id find the same contact (a group applies it
	// before its set-based statements: see prepareGroup).
	if res.group == nil {
		if err := b.applyUserIDChanges(ctx, tx, acc, ch); err != nil {
			return nil, err
		}
	}
	inbounds, changes, clamped := b.groupInbound(acc, ch)
	res.ClampedTimestamps += clamped
	for _, in := range inbounds {
		msgs := in.Messages
		r, err := b.recordInbound(ctx, tx, in, res)
		if err != nil {
			return nil, err
		}
		if r.ConversationID == 0 {
			continue // not even a placeholder could be stored; the raw event keeps it
		}
		if ch.Field == whatsapp.FieldStandby {
			if err := b.markStandby(ctx, tx, r.ConversationID, r.InsertedIDs); err != nil {
				return nil, err
			}
		}
		res.NewMessages += r.Inserted
		if r.Inserted > 0 {
			if res.NewByNumber == nil {
				res.NewByNumber = map[string]int{}
			}
			res.NewByNumber[acc.Name] += r.Inserted
			res.Conversations = append(res.Conversations, r.ConversationID)
		}
		res.Duplicates += len(msgs) - r.Inserted
		if r.Enqueue {
			jobs = append(jobs, river.InsertManyParams{Args: DeliverInboundArgs{ConversationID: r.ConversationID}})
		}
		if r.Inserted > 0 {
			if err := b.emitReceivedIn(ctx, tx, res, acc.ID, r.InsertedIDs); err != nil {
				return nil, err
			}
			// The customer wrote: the 24-hour window is open again, so
			// replies held for it can go.
			held, err := b.releaseWaiting(ctx, tx, res, r.ConversationID)
			if err != nil {
				return nil, err
			}
			if held > 0 {
				j, err := b.wake(ctx, tx, r.ConversationID, store.DirOut)
				if err != nil {
					return nil, err
				}
				jobs = append(jobs, j...)
			}
		}
	}

	// Echoes, Meta's AI replies and handovers: shown on the ticket as
	// notes, never sent, never opening the window.
	side, err := b.storeSide(ctx, tx, acc, ch, res)
	if err != nil {
		return nil, err
	}
	jobs = append(jobs, side...)

	// Only the contact of this number's business changes: the delivery
	// was signed by this number's app.
	for _, c := range changes {
		if err := tx.RecordNumberChange(ctx, acc.ID, c.old, c.newID, c.at); err != nil {
			return nil, err
		}
	}

	for _, st := range ch.Statuses {
		at, _ := saneTimestamp(st.Timestamp, b.now())
		r, err := tx.ApplyStatus(ctx, store.StatusUpdate{AccountID: acc.ID, WAMID: st.ID, Status: st.Status, At: at, Errors: st.Errors})
		if err != nil {
			return nil, err
		}
		if r.Foreign {
			// A message id of another number: whoever signed this
			// delivery has no say over it.
			b.log.Debug("status for another number's message ignored", "account", acc.Name, "status", st.Status)
			res.ForeignStatuses++
			continue
		}
		if st.Pricing != nil && r.Found {
			if err := tx.RecordPricing(ctx, acc.ID, st.ID, store.Pricing{Category: st.Pricing.Category,
				Billable: st.Pricing.Billable, Type: st.Pricing.Type, Model: st.Pricing.PricingModel}); err != nil {
				return nil, err
			}
		}
		if r.Advanced {
			if err := b.emitStatus(ctx, tx, acc.ID, r.MessageID); err != nil {
				return nil, err
			}
			if jobs, err = b.statusJobFor(ctx, tx, jobs, r.MessageID, st.Status); err != nil {
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
		if err := tx.SetAccountHealth(ctx, acc.ID, "degraded", fmt.Sprint(ch.Errors)); err != nil {
			return nil, err
		}
	}
	return jobs, nil
}

// applyUserIDChanges applies a change's BSUID changes (user_changed_user_id,
// or the new BSUID that comes with user_changed_number), so the system
// message and any later message under the new id find the same contact:
// the conversation and its ticket stay.
func (b *Bridge) applyUserIDChanges(ctx context.Context, tx *store.Tx, acc store.Account, ch whatsapp.Change) error {
	for _, m := range ch.Messages {
		if s := m.System; s != nil && (s.Type == whatsapp.SystemUserChangedUserID || s.Type == whatsapp.SystemUserChangedNumber) {
			changed, err := tx.RecordUserIDChange(ctx, acc.ID, s.PreviousUserID, m.NewUserID())
			if err != nil {
				return err
			}
			if !changed && s.PreviousUserID != "" && m.NewUserID() != "" {
				b.log.Info("business-scoped user id change not applied: the old id is unknown or the new one taken",
					"account", acc.Name)
			}
		}
	}
	return nil
}

// numberChange is a user_changed_number system message: applied after the
// messages are stored, so the contact exists.
type numberChange struct {
	old   store.Customer
	newID string
	at    time.Time
}

// groupInbound groups a change's messages by customer, in their order, as
// they are recorded: one store.Inbound per customer. It also returns the
// number changes the messages announce and how many timestamps were out of
// range (stored with the arrival time).
func (b *Bridge) groupInbound(acc store.Account, ch whatsapp.Change) ([]store.Inbound, []numberChange, int) {
	var order []string
	byCustomer := map[string][]store.InboundMessage{}
	customers := map[string]store.Customer{}
	var changes []numberChange
	clamped := 0
	for _, m := range ch.Messages {
		cu := customerOf(ch, m)
		if m.ID == "" || (cu.WaID == "" && cu.UserID == "") {
			continue // nothing to key it on; kept in webhook_events
		}
		if m.System != nil && m.System.Type == whatsapp.SystemUserChangedNumber && m.System.NewWaID != "" {
			at, _ := saneTimestamp(m.Timestamp, b.now())
			changes = append(changes, numberChange{cu, m.System.NewWaID, at})
		}
		key := cu.Key()
		if _, ok := byCustomer[key]; !ok {
			order = append(order, key)
			customers[key] = cu
		}
		im, c := inboundMessage(m, b.now())
		if c {
			clamped++
		}
		byCustomer[key] = append(byCustomer[key], im)
	}
	inbounds := make([]store.Inbound, 0, len(order))
	for _, key := range order {
		inbounds = append(inbounds, store.Inbound{AccountID: acc.ID, Customer: customers[key], Messages: byCustomer[key]})
	}
	return inbounds, changes, clamped
}

// customerOf is the customer who sent m: its entry in the change's
// contacts (matched by BSUID or phone; the only entry when there is one),
// else the message's own sender fields.
func customerOf(ch whatsapp.Change, m whatsapp.Message) store.Customer {
	var ct *whatsapp.Contact
	for i := range ch.Contacts {
		c := &ch.Contacts[i]
		if (m.FromUserID != "" && c.UserID == m.FromUserID) || (m.From != "" && c.WaID == m.From) {
			ct = c
			break
		}
	}
	if ct == nil && len(ch.Contacts) == 1 {
		ct = &ch.Contacts[0]
	}
	cu := store.Customer{WaID: m.From, UserID: m.FromUserID}
	if m.System != nil {
		// System messages come without contacts; the customer is named
		// by the new BSUID (applied before, see storeChange), else the
		// previous one.
		cu.UserID = cmp.Or(m.NewUserID(), m.System.PreviousUserID)
	}
	if ct != nil {
		// wa_id is the customer key; from may differ.
		cu.WaID = cmp.Or(ct.WaID, cu.WaID)
		cu.UserID = cmp.Or(ct.UserID, cu.UserID)
		cu.Username, cu.ProfileName = ct.Username, ct.Name
	}
	return cu
}

// applyAccountEvent surfaces account-level fields as the number's status.
func (b *Bridge) applyAccountEvent(ctx context.Context, tx *store.Tx, accounts []store.Account, ev whatsapp.AccountEvent) error {
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
		if err := tx.SetAccountHealth(ctx, a.ID, health, detail); err != nil {
			return err
		}
	}
	return nil
}

// inboundMessage turns a parsed message arriving at now into its stored
// form: the decoded message itself, so the delivery job does not parse
// Meta's JSON again. It reports whether WhatsApp's time was out of range
// and clamped to now (the decoded message keeps the original).
func inboundMessage(m whatsapp.Message, now time.Time) (store.InboundMessage, bool) {
	im := store.InboundMessage{WAMID: m.ID, Kind: m.Type, Message: &m}
	var clamped bool
	im.At, clamped = saneTimestamp(m.Timestamp, now)
	switch {
	case m.Type == whatsapp.TypeText:
		im.Body = m.Text
	case m.Media != nil:
		im.Body, im.Media = m.Media.Caption, m.Media
	case m.Interactive != nil:
		im.Body = m.Interactive.Title
	case m.Button != nil:
		im.Body = m.Button.Text
	case m.Reaction != nil:
		im.Body = m.Reaction.Emoji
	case m.Edit != nil:
		im.Body = m.Edit.NewText()
	}
	if m.Type == "" {
		im.Kind = whatsapp.TypeUnknown
	}
	return im, clamped
}
