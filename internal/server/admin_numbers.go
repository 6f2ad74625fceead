package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
)

// numbersView is the data of numbers.html.
type numbersView struct {
	Numbers []numberRow
}

// numberRow is one number of numbers.html with its circuit breaker (Graph
// for that number), nil while it never failed.
type numberRow struct {
	store.Account
	Breaker *store.Breaker
	Silence *store.Silence // set when the number stopped receiving after regular traffic
}

// A number is flagged as stopped receiving when nothing arrived for
// silenceQuiet after a day with at least silenceBusy customer messages:
// the same thresholds as the RelaydeskNumberStoppedReceiving alert in
// docs/alerts.yml.
const (
	silenceQuiet = 2 * time.Hour
	silenceBusy  = 50
)

// numberView is the data of number.html (new and edit).
type numberView struct {
	Number   *store.Account // nil when adding
	Fields   []field
	Action   string
	ReadOnly bool
	// VerifyToken is the stored verify token, shown with the callback URL
	// (it is no secret from the admin: Meta's form needs it pasted).
	VerifyToken string
	// Templates is the number's template catalogue, with previews.
	Templates []templateRow
	// VersionWarning warns about the number's Graph version (expired,
	// expiring within 90 days, or unknown); "" when fine.
	VersionWarning string
	// Pricing counts the number's priced messages per month and category.
	Pricing []store.PricingCount
}

// webhookFields are the fields to subscribe to in Meta's App Dashboard,
// shown on the number page: the conversation fields (without standby and
// messaging_handovers, the conversations Meta's AI agent handles are lost
// silently) and the account fields relaydesk shows as the number's status.
var webhookFields = append(append([]string{}, whatsapp.ConversationFields...),
	whatsapp.FieldAccountUpdate, whatsapp.FieldPhoneNumberQualityUpdate, whatsapp.FieldPhoneNumberNameUpdate,
	whatsapp.FieldMessageTemplateStatusUpdate, whatsapp.FieldMessageTemplateQualityUpdate)

// pricingMonths is how many months of pricing counts the number page shows.
const pricingMonths = 3

// templateRow is one template of number.html's catalogue.
type templateRow struct {
	store.CatalogueTemplate
	Preview string // rendered with the catalogue's sample values
	Reply   string // the helpdesk reply that sends it
}

// templatesOf is a number's catalogue for its page.
func (s *Server) templatesOf(ctx context.Context, id store.AccountID) ([]templateRow, error) {
	ts, err := s.store.TemplatesOf(ctx, id)
	if err != nil {
		return nil, err
	}
	rows := make([]templateRow, 0, len(ts))
	for _, t := range ts {
		rows = append(rows, templateRow{CatalogueTemplate: t, Preview: bridge.TemplatePreview(t), Reply: bridge.TemplateReplyExample(t)})
	}
	return rows, nil
}

// numberTemplatesRefresh reads the number's template catalogue from Graph
// now (it is also read every 6 hours).
func (s *Server) numberTemplatesRefresh(c echo.Context) error {
	a, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	self := "/admin/numbers/" + idText(a.ID)
	n, err := s.bridge.RefreshTemplates(c.Request().Context(), a.ID)
	if err != nil {
		detail := err.Error()
		var ae *whatsapp.APIError
		if errors.As(err, &ae) {
			detail = ae.PlainReason()
		}
		return s.flash(c, self, "error", "The template catalogue of "+a.Name+" could not be read; the previous one is kept.", detail)
	}
	return s.flash(c, self, "success", fmt.Sprintf("Read %d templates of %s from WhatsApp.", n, a.Name), "")
}

// breakersOf returns the circuit breakers of one target kind that are open
// or have failures, by target id, for the admin lists.
func (s *Server) breakersOf(ctx context.Context, target store.BreakerTarget) (map[int64]*store.Breaker, error) {
	bs, err := s.store.Breakers(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int64]*store.Breaker{}
	for i := range bs {
		if bs[i].Target == target {
			out[bs[i].TargetID] = &bs[i]
		}
	}
	return out, nil
}

// notFoundOr maps store.ErrNotFound to a 404.
func notFoundOr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	return err
}

func (s *Server) numbersList(c echo.Context) error {
	ctx := c.Request().Context()
	accounts, err := s.store.Accounts(ctx)
	if err != nil {
		return err
	}
	breakers, err := s.breakersOf(ctx, store.BreakerAccount)
	if err != nil {
		return err
	}
	silent, err := s.store.SilentAccounts(ctx, silenceQuiet, silenceBusy)
	if err != nil {
		return err
	}
	v := numbersView{}
	for _, a := range accounts {
		row := numberRow{Account: a, Breaker: breakers[int64(a.ID)]}
		if q, ok := silent[a.ID]; ok {
			row.Silence = &q
		}
		v.Numbers = append(v.Numbers, row)
	}
	return s.render(c, http.StatusOK, "numbers.html", "numbers", v)
}

func (s *Server) numberNew(c echo.Context) error {
	f := &numberForm{GraphURL: "https://graph.facebook.com", GraphVersion: whatsapp.DefaultVersion, SendRate: "80", Errors: map[string]string{}}
	return s.render(c, http.StatusOK, "number.html", "numbers", numberView{Fields: f.Fields(false, false, false, false), Action: "/admin/numbers"})
}

func (s *Server) numberCreate(c echo.Context) error {
	f := numberFormFromRequest(c)
	if f.Validate(true) && s.numberURLAllowed(c, f) {
		if f.VerifyToken == "" {
			f.VerifyToken = randomText(24)
		}
		a, err := s.store.CreateAccount(c.Request().Context(), f.NewAccount(), s.actor(c))
		if err == nil {
			return s.flash(c, "/admin/numbers/"+idText(a.ID), "success", "Number "+a.Name+" added.",
				"Next: press “Test connection”, then set up the webhook in Meta's App Dashboard (see Webhooks).")
		}
		if stop, err := s.writeFailed(c, err, f.Errors); stop {
			return err
		}
	}
	f.AccessToken, f.AppSecret, f.VerifyToken = "", "", "" // never echo secrets back
	return s.formInvalid(c, "number.html", "numbers", numberView{Fields: f.Fields(false, false, false, false), Action: "/admin/numbers"})
}

func (s *Server) numberEdit(c echo.Context) error {
	a, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	tok, app, ver := a.HasSecrets()
	sec, err := s.store.Secrets(a)
	if err != nil {
		return err
	}
	templates, err := s.templatesOf(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	pricing, err := s.store.PricingByMonth(c.Request().Context(), a.ID, pricingMonths)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "number.html", "numbers", numberView{Number: &a,
		Fields: numberFormFrom(a).Fields(tok, app, ver, a.ManagedByFile), Action: "/admin/numbers/" + idText(a.ID),
		ReadOnly: a.ManagedByFile, VerifyToken: sec.VerifyToken, Templates: templates,
		VersionWarning: whatsapp.VersionWarning(a.GraphVersion, time.Now()), Pricing: pricing})
}

func (s *Server) numberUpdate(c echo.Context) error {
	a, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	self := "/admin/numbers/" + idText(a.ID)
	if a.ManagedByFile {
		return s.managedRefusal(c)
	}
	f := numberFormFromRequest(c)
	if f.Validate(false) && s.numberURLAllowed(c, f) && f.secretsRetyped(a) {
		err := s.store.UpdateAccount(c.Request().Context(), a.ID, f.NewAccount(), s.actor(c))
		if err == nil {
			return s.flash(c, self, "success", "Number "+f.Name+" saved.", "")
		}
		if stop, err := s.writeFailed(c, err, f.Errors); stop {
			return err
		}
	}
	f.AccessToken, f.AppSecret, f.VerifyToken = "", "", ""
	tok, app, ver := a.HasSecrets()
	return s.formInvalid(c, "number.html", "numbers", numberView{Number: &a, Fields: f.Fields(tok, app, ver, false), Action: self})
}

// managedRefusal answers a change to an entry of the configuration file.
func (s *Server) managedRefusal(c echo.Context) error {
	return s.renderPage(c, http.StatusForbidden, "error.html", "", errorPage{Code: http.StatusForbidden, Title: "Managed by the configuration file",
		Message: store.ErrManagedByFile.Error() + ". Change it in the file and restart relaydesk."}, nil)
}

func (s *Server) numberEnabled(c echo.Context) error {
	a, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	self := "/admin/numbers/" + idText(a.ID)
	enable := c.FormValue("enabled") == "true"
	err = s.store.SetAccountEnabled(c.Request().Context(), a.ID, enable, s.actor(c))
	if errors.Is(err, store.ErrManagedByFile) {
		return s.managedRefusal(c)
	}
	if err != nil {
		return err
	}
	if enable {
		return s.flash(c, self, "success", "Number "+a.Name+" is enabled again.", "")
	}
	return s.flash(c, self, "warning", "Number "+a.Name+" is disabled.",
		"WhatsApp deliveries for it are acknowledged and dropped until you enable it again.")
}

// numberTest asks Graph for the number's details with the stored token, and
// records what it learnt as the number's health.
func (s *Server) numberTest(c echo.Context) error {
	a, err := byID(c, s.store.AccountByID)
	if err != nil {
		return err
	}
	self := "/admin/numbers/" + idText(a.ID)
	sec, err := s.store.Secrets(a)
	if err != nil {
		return err
	}
	if !a.ManagedByFile && c.FormValue("name") != "" {
		return s.numberTestTyped(c, a, sec.AccessToken, sec.VerifyToken)
	}
	health, kind, msg, detail := s.graphCheck(c, a, sec.AccessToken)
	hdetail := msg + " " + detail
	if kind == "error" {
		hdetail = detail // "The test failed." is the flash's headline, not a detail
	}
	if err := s.store.SetAccountHealth(c.Request().Context(), a.ID, health, hdetail); err != nil {
		return err
	}
	return s.flash(c, self, kind, msg, detail)
}

// numberTestTyped tests the values typed in the number's form (the Test
// button submits the form), without saving them, and shows the form again
// with them and the outcome. The number's health is recorded only when the
// typed values are the stored ones.
func (s *Server) numberTestTyped(c echo.Context, a store.Account, storedToken, verifyToken string) error {
	self := "/admin/numbers/" + idText(a.ID)
	f := numberFormFromRequest(c)
	typedSecrets := f.AccessToken != "" || f.AppSecret != ""
	tok, app, ver := a.HasSecrets()
	view := func() numberView {
		f.AccessToken, f.AppSecret, f.VerifyToken = "", "", ""
		return numberView{Number: &a, Fields: f.Fields(tok, app, ver, false), Action: self, VerifyToken: verifyToken}
	}
	if !f.Validate(false) || !s.numberURLAllowed(c, f) || !f.secretsRetyped(a) {
		return s.formInvalid(c, "number.html", "numbers", view())
	}
	same := !typedSecrets && f.GraphURL == a.GraphURL && f.GraphVersion == a.GraphVersion && f.PhoneNumberID == a.PhoneNumberID
	try := a
	try.GraphURL, try.GraphVersion, try.PhoneNumberID = f.GraphURL, f.GraphVersion, f.PhoneNumberID
	token := cmp.Or(f.AccessToken, storedToken)
	health, kind, msg, detail := s.graphCheck(c, try, token)
	if same {
		if err := s.store.SetAccountHealth(c.Request().Context(), a.ID, health, msg+" "+detail); err != nil {
			return err
		}
	} else {
		detail = strings.TrimSpace(detail + " Tested with the values in the form; nothing is saved until you press Save.")
		if typedSecrets {
			detail += " Secrets are never shown again: type them once more before saving."
		}
	}
	return s.renderPage(c, http.StatusOK, "number.html", "numbers", view(), &store.Flash{Kind: kind, Message: msg, Detail: detail})
}

// graphCheck asks Graph about number a with token and says the outcome.
func (s *Server) graphCheck(c echo.Context, a store.Account, token string) (health, kind, msg, detail string) {
	client, err := whatsapp.NewClient(whatsapp.ClientOpts{BaseURL: a.GraphURL, Version: a.GraphVersion, AccessToken: token,
		PhoneNumberID: a.PhoneNumberID, HTTPClient: s.admin.http, Timeout: adminCallTimeout})
	if err != nil {
		return "attention", "error", "The number's settings are not usable.", sentence(err.Error())
	}
	ctx, cancel := callCtx(c)
	defer cancel()
	info, err := client.PhoneNumber(ctx)
	health, kind = "healthy", "success"
	if err == nil {
		name := info.VerifiedName
		if name == "" {
			name = "no verified name yet"
		}
		msg = fmt.Sprintf("Connection works: WhatsApp knows this number as %s (%s).", info.DisplayPhoneNumber, name)
		detail = "Quality rating: " + qualityWords(info.QualityRating) + "."
	} else {
		health, kind = testHealth(err), "error"
		msg, detail = "The test failed.", plainGraphError(err, a)
	}
	return health, kind, msg, detail
}

func qualityWords(q string) string {
	switch q {
	case whatsapp.QualityGreen:
		return "high (green)"
	case whatsapp.QualityYellow:
		return "medium (yellow): customers have been blocking or reporting messages"
	case whatsapp.QualityRed:
		return "low (red): messaging limits may be lowered soon"
	case "", whatsapp.QualityNA:
		return "not rated yet"
	}
	return q
}

// testHealth classifies a failed test as the health to record.
func testHealth(err error) string {
	cls, _ := whatsapp.Classify(err)
	var ae *whatsapp.APIError
	switch {
	case cls == whatsapp.ClassAuth:
		return "token_expired"
	case errors.As(err, &ae):
		return "attention"
	}
	return "unreachable"
}

// plainGraphError explains a failed Graph call in plain words.
func plainGraphError(err error, a store.Account) string {
	var ae *whatsapp.APIError
	cls, _ := whatsapp.Classify(err)
	switch {
	case cls == whatsapp.ClassAuth:
		return "WhatsApp refused the access token: it has expired, was revoked or lacks permissions. Paste a new system user token and test again."
	case errors.As(err, &ae) && ae.GraphError && ae.Code == 100:
		return "WhatsApp does not know phone number ID " + a.PhoneNumberID + " for this token. Check the ID in WhatsApp Manager " +
			"(API Setup) and that the token's system user has access to the WhatsApp Business Account."
	case errors.As(err, &ae):
		return ae.PlainReason() + fmt.Sprintf(" (Graph answered HTTP %d.)", ae.HTTPStatus)
	}
	if msg, ok := bridge.PlainNetError(err); ok {
		return "relaydesk could not reach the Graph API: " + msg
	}
	return "relaydesk could not reach the Graph API at " + a.GraphURL + ": " + err.Error()
}

func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// numberURLAllowed refuses a Graph URL on this machine or its local link.
func (s *Server) numberURLAllowed(c echo.Context, f *numberForm) bool {
	if msg := s.localURLProblem(c.Request().Context(), f.GraphURL); msg != "" {
		f.Errors["graph_url"] = msg
		return false
	}
	return true
}

// secretsRetyped requires the access token and app secret again when the
// Graph URL's host changes, so a stored secret never goes to a new address.
func (f *numberForm) secretsRetyped(a store.Account) bool {
	if origin(f.GraphURL) == origin(a.GraphURL) {
		return true
	}
	if f.AccessToken == "" {
		f.Errors["access_token"] = movedSecretMessage("access token")
	}
	if f.AppSecret == "" {
		f.Errors["app_secret"] = movedSecretMessage("app secret")
	}
	return len(f.Errors) == 0
}
