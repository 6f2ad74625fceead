// Package whatsapp is relaydesk's WhatsApp Business Platform (Cloud API)
// layer. It is pure WhatsApp logic: it knows nothing about Postgres, River or
// Echo, so it can be tested on its own and reused by tools.
//
// # Webhooks
//
// Meta POSTs every event for a WhatsApp Business Account (WABA) to one
// callback URL. The HTTP layer handles a delivery in three steps:
//
//  1. [PeekAccounts] reads the phone_number_id and WABA ids from the raw body
//     without trusting it, so the caller can look up the app secret(s) of the
//     accounts involved. Several accounts may share one Meta app (and so one
//     app secret); the payload names the business number by
//     metadata.phone_number_id and the WABA by entry[].id.
//  2. [VerifySignature] (or [VerifySignatureAny]) checks the
//     X-Hub-Signature-256 header against the raw body bytes in constant time.
//     Its sentinel errors ([ErrSignatureMissing], [ErrSignatureMalformed],
//     [ErrSignatureMismatch], [ErrAppSecretMissing]) let the caller count
//     rejections per reason.
//  3. [ParseDelivery] turns the body into a [Batch]: one [Change] per
//     entry[].changes[] item of field "messages" (inbound [Message] values,
//     outbound [Status] updates, value-level [Error] values), and one
//     [AccountEvent] for every other field (template status, quality updates,
//     unknown future fields). [Batch.PhoneNumberIDs] and [Batch.WABAIDs]
//     name the same accounts as PeekAccounts.
//
// Parsing is deliberately lenient about what Meta may add: unknown JSON
// fields, unknown message types, unknown status values and account-level
// fields never fail a delivery. Every [Message] and [Status] keeps its
// original JSON in Raw, so nothing is lost even when relaydesk does not
// understand it yet. Only a body that is not JSON, whose envelope has the
// wrong shape, or whose object is not "whatsapp_business_account" is
// rejected ([ErrMalformedDelivery], [ErrUnexpectedObject]).
//
// Meta does not guarantee ordering and retries deliveries for up to seven
// days, so callers deduplicate on Message.ID (wamid) and on
// (Status.ID, Status.Status), and move an outbound message's status forward
// only (the store ranks statuses in SQL; see [Status]).
//
// # Graph API client
//
// [Client] sends messages, marks messages read, uploads and downloads media
// and reads the business number's details over the Graph API. Every JSON call
// runs under a deadline (ClientOpts.Timeout, 30 s by default); media uploads
// and downloads are streamed and rely on the caller's context. The client
// never retries on its own: a send that timed out may still have been
// accepted by Meta, and the Cloud API has no idempotency key, so retry policy
// belongs to the caller (a River job) which uses [Classify] to choose between
// retrying with backoff ([ClassRetry]), waiting ([ClassWait], with a
// suggested delay), giving up with a note for the agent ([ClassFinal],
// [PlainReason]) and flagging the account's credentials ([ClassAuth]).
//
// The access token is only ever sent in the Authorization header. It never
// appears in errors: Graph error messages that echo it are redacted.
//
// # Testing
//
// Package whatsapptest provides a fake Graph API that validates every request
// against Meta's OpenAPI description, webhook delivery builders and helpers
// to sign requests and load the example payloads in shared/specs.
package whatsapp
