package whatsapp

import (
	"fmt"
	"time"
)

// classifyCode returns the class of a known Graph/WhatsApp error code.
func classifyCode(code int) (Class, bool) {
	switch {
	// Authentication: token invalid, expired or revoked.
	case code == 0, code == 102, code == 190:
		return ClassAuth, true

	// Rate and throughput limits.
	case code == 4, // app-level Graph call rate
		code == 17,     // user-level call rate
		code == 32,     // page-level call rate
		code == 613,    // custom rate limit
		code == 80007,  // WABA rate limit
		code == 130429, // throughput (messages per second per number)
		code == 131048, // spam rate limit (quality)
		code == 131056: // pair rate limit (same business -> same user)
		return ClassWait, true

	// Transient server-side problems.
	case code == 1, // unknown, possibly temporary
		code == 2,      // service temporarily unavailable
		code == 131000, // something went wrong
		code == 131016, // service unavailable
		code == 133000, // incomplete deregistration
		code == 133004: // server temporarily unavailable
		return ClassRetry, true

	// Permanent for this request.
	case code == 3, code == 10, code >= 200 && code <= 299, // permissions
		code == 33,                       // object does not exist / number deleted
		code == 100,                      // invalid parameter
		code == 368,                      // temporarily blocked for policy violations
		code == 2500,                     // unknown path components (bad version/id)
		code == 130472,                   // user's number part of an experiment
		code == 131005,                   // access denied
		code == 131008,                   // required parameter missing
		code == 131009,                   // parameter value invalid
		code == 131021,                   // recipient cannot be sender
		code == 131026,                   // message undeliverable
		code == 131031,                   // account locked
		code == 131037,                   // display name not approved
		code == 131042,                   // payment/eligibility issue
		code == 131045,                   // certificate error
		code == 131047,                   // re-engagement: 24-hour window closed
		code == 131049,                   // marketing message not delivered (ecosystem)
		code == 131050,                   // user stopped marketing messages
		code == 131051,                   // unsupported message type
		code == 131052,                   // media download error
		code == 131053,                   // media upload error
		code == 131062,                   // BSUID recipient not allowed for this message
		code >= 132000 && code <= 132999, // template errors
		code == 133010:                   // phone number not registered
		return ClassFinal, true
	}
	return "", false
}

// DefaultWait is the wait Classify suggests for a ClassWait error when the
// server sent no Retry-After:
//   - 130429 throughput: 5 s (limits are per second);
//   - 131056 pair rate: 15 s (about one message per 6 s to one user, with
//     burst time to pay back);
//   - 131048 spam rate limit: 1 h;
//   - 4, 17, 32, 613, 80007 Graph/WABA call-rate limits: 5 min (these
//     windows are rolling hours);
//   - anything else (e.g. a bare HTTP 429): 30 s.
func DefaultWait(code int) time.Duration {
	switch code {
	case 130429:
		return 5 * time.Second
	case 131056:
		return 15 * time.Second
	case 131048:
		return time.Hour
	case 4, 17, 32, 613, 80007:
		return 5 * time.Minute
	}
	return 30 * time.Second
}

// PhonelessReason is what an agent can do when WhatsApp refuses a message
// to a customer known only by their business-scoped user id (error 131062;
// authentication templates always need a phone number).
const PhonelessReason = "This customer hides their phone number behind a WhatsApp username, and WhatsApp does not allow " +
	"this kind of message (for example an authentication template) to be sent without one. Ask the customer for their " +
	"phone number in a normal reply, or wait for the customer to write and answer within 24 hours with a normal reply."

// PlainReason explains an error code in one or two sentences an agent can
// act on; relaydesk adds it as an internal note when a message fails. Unknown
// codes get a generic sentence naming the code.
func PlainReason(code int) string {
	switch {
	case code == 0 || code == 102 || code == 190:
		return "WhatsApp rejected relaydesk's access token (expired or revoked). An admin must reconnect this WhatsApp number; queued messages will be sent afterwards."
	case code == 3 || code == 10 || (code >= 200 && code <= 299):
		return "The WhatsApp app is missing a permission (whatsapp_business_messaging). An admin must fix the app's permissions in Meta Business Manager."
	case code == 4 || code == 17 || code == 32 || code == 613 || code == 80007:
		return "WhatsApp's API rate limit for this business account was reached. relaydesk will retry automatically."
	case code == 130429:
		return "Too many messages were sent from this number at once. relaydesk will retry automatically."
	case code == 131056:
		return "Too many messages were sent to this customer in a short time. relaydesk will retry in a few seconds."
	case code == 131048:
		return "WhatsApp is limiting this number because earlier messages were blocked or reported as spam. Check the number's quality in WhatsApp Manager."
	case code == 1 || code == 2 || code == 131000 || code == 131016 || code == 133000 || code == 133004:
		return "WhatsApp had a temporary problem. relaydesk will retry automatically."
	case code == 131047:
		return "The customer's last message is older than 24 hours; WhatsApp only allows a template now."
	case code == 131026:
		return "WhatsApp could not deliver this message: the number may not be on WhatsApp, may use an outdated app, or may have blocked this business."
	case code == 131049:
		return "WhatsApp did not deliver this marketing message to keep the customer's engagement healthy. Do not resend it right away."
	case code == 131050:
		return "The customer has stopped marketing messages from this business."
	case code == 131051:
		return "The customer sent a message type WhatsApp does not support for businesses (for example a poll or a view-once message). Ask them to send it another way."
	case code == 131052:
		return "WhatsApp could not fetch the customer's media file. Ask the customer to send it again."
	case code == 131053:
		return "WhatsApp could not use the attached file (unsupported format, too large, or the link was unreachable)."
	case code == 131062:
		return PhonelessReason
	case code == 131021:
		return "The recipient is the business number itself; WhatsApp does not allow sending to yourself."
	case code == 131008 || code == 131009 || code == 100:
		return "WhatsApp rejected the message as invalid (a missing or wrong value). This is likely a relaydesk bug or unsupported content; please report it."
	case code == 131031:
		return "This WhatsApp business account is locked. An admin must resolve it in Meta Business Manager."
	case code == 368:
		return "This WhatsApp business account is temporarily blocked for policy violations. An admin should check Meta Business Manager."
	case code == 133010:
		return "This phone number is not registered with the WhatsApp Cloud API. An admin must register it."
	case code == 130472:
		return "WhatsApp did not deliver this message because the customer's number is part of a Meta experiment."
	case code == 132000:
		return "The number of values does not match the template's variables (header, body or buttons). Check what the template expects on relaydesk's number page and send it again."
	case code == 132001:
		return "The template does not exist in this language, or is not approved yet. Check its name and language code (for example en_US) on relaydesk's number page."
	case code == 132005:
		return "Once its variables are filled in, the template's text is longer than WhatsApp allows. Use shorter values."
	case code == 132007:
		return "The filled-in template breaks WhatsApp's formatting or content rules. Change the values and send it again."
	case code == 132012:
		return "A value has the wrong type for its variable, for example text where the template's header needs an image, video or document. Attach the file the header needs."
	case code == 132015:
		return "WhatsApp has paused this template because of low quality (customers blocked or reported it). Use another template until it is active again."
	case code == 132016:
		return "WhatsApp has disabled this template for good because of low quality. Use another template."
	case code == 132018:
		return "A template value contains a line break, a tab or more than four spaces in a row, which WhatsApp does not allow. Put each value on one line."
	case code >= 132000 && code <= 132999:
		return "WhatsApp rejected the template message. Check the template's name, language and variables."
	}
	return fmt.Sprintf("WhatsApp rejected the message (error code %d).", code)
}
