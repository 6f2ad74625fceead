package whatsapp

import (
	"context"
	"net/http"
)

// Quality ratings of a business phone number.
const (
	QualityGreen  = "GREEN"
	QualityYellow = "YELLOW"
	QualityRed    = "RED"
	QualityNA     = "NA"
)

// PhoneNumberInfo is the business phone number's details, as shown by the
// admin page's "test connection" button.
type PhoneNumberInfo struct {
	// ID is the phone number id.
	ID string `json:"id"`
	// DisplayPhoneNumber is the number as users see it, e.g. "+1 555-555-5555".
	DisplayPhoneNumber string `json:"display_phone_number"`
	// VerifiedName is the approved business display name.
	VerifiedName string `json:"verified_name"`
	// QualityRating is QualityGreen, QualityYellow, QualityRed or QualityNA.
	QualityRating string `json:"quality_rating"`
	// CodeVerificationStatus is "VERIFIED" or "UNVERIFIED" when returned.
	CodeVerificationStatus string `json:"code_verification_status,omitempty"`
	// NameStatus is the display name review status when returned.
	NameStatus string `json:"name_status,omitempty"`
	// PlatformType is e.g. "CLOUD_API" when returned (not in the v23 spec).
	PlatformType string `json:"platform_type,omitempty"`
}

// PhoneNumber fetches the details of the client's business phone number
// (GET /{phone-number-id}). It is a cheap way to check that the token, the
// phone number id and the network all work: a ClassAuth error means the
// token is bad, a ClassFinal 100/33 error that the id is wrong.
func (c *Client) PhoneNumber(ctx context.Context) (PhoneNumberInfo, error) {
	var info PhoneNumberInfo
	if err := c.doJSON(ctx, http.MethodGet, c.endpoint(c.phoneNumberID), nil, &info); err != nil {
		return PhoneNumberInfo{}, err
	}
	return info, nil
}
