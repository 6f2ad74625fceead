package whatsapp

import "encoding/json"

// Wire shapes of the type-specific payloads. Where the wire shape and the
// model agree (contact cards, buttons, reactions, referred products,
// referrals, system messages) the model types are decoded directly, or
// embedded in a wire type for the members that differ.

type wireMedia struct {
	ID       string   `json:"id"`
	MimeType string   `json:"mime_type"`
	SHA256   string   `json:"sha256"`
	Caption  string   `json:"caption"`
	Filename string   `json:"filename"`
	Voice    flexBool `json:"voice"`
	Animated flexBool `json:"animated"`
}

type wireLocation struct {
	Latitude  flexFloat `json:"latitude"`
	Longitude flexFloat `json:"longitude"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	URL       string    `json:"url"`
}

// wireSharedContact is a SharedContact whose name parts are nested under
// "name" on the wire; the card's other members have the model's names.
type wireSharedContact struct {
	SharedContact
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
}

type wireInteractive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"list_reply"`
	NfmReply *struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	} `json:"nfm_reply"`
}

type wireContext struct {
	From                string           `json:"from"`
	ID                  string           `json:"id"`
	Forwarded           flexBool         `json:"forwarded"`
	FrequentlyForwarded flexBool         `json:"frequently_forwarded"`
	ReferredProduct     *ReferredProduct `json:"referred_product"`
}

// wireReferral is a Referral whose welcome message is an object on the wire;
// the outer member shadows Referral's own welcome_message.
type wireReferral struct {
	Referral
	WelcomeMessage *struct {
		Text string `json:"text"`
	} `json:"welcome_message"`
}

type wireText struct {
	Body string `json:"body"`
}

type wireOrder struct {
	CatalogID    string `json:"catalog_id"`
	Text         string `json:"text"`
	ProductItems []struct {
		ProductRetailerID string    `json:"product_retailer_id"`
		Quantity          flexInt   `json:"quantity"`
		ItemPrice         flexFloat `json:"item_price"`
		Currency          string    `json:"currency"`
	} `json:"product_items"`
}

// wireSystem is a System as sent: the new id is system.wa_id, or new_wa_id
// in payloads older than Graph v12.
type wireSystem struct {
	System
	WaID string `json:"wa_id"`
}

// decodeMessage turns one messages[] item into a Message. It never fails:
// members with an unexpected shape are skipped and reported in DecodeError.
func decodeMessage(raw json.RawMessage) Message {
	m := Message{Raw: raw}
	d := newFieldDecoder(raw)
	d.strings(map[string]*string{"id": &m.ID, "from": &m.From, "from_user_id": &m.FromUserID, "type": &m.Type,
		"to": &m.To, "to_user_id": &m.ToUserID})
	d.time("timestamp", &m.Timestamp)
	// The payload is the member named by the type.
	switch m.Type {
	case TypeImage, TypeAudio, TypeVideo, TypeDocument, TypeSticker:
		m.Media = decodeWith(d, m.Type, convertMedia)
	case TypeLocation:
		m.Location = decodeWith(d, m.Type, convertLocation)
	case TypeContacts:
		m.Contacts = decodeWith(d, m.Type, convertSharedContacts)
	case TypeText:
		m.Text = decodeWith(d, m.Type, func(w wireText) string { return w.Body })
	case TypeInteractive:
		m.Interactive = decodeWith(d, m.Type, convertInteractive)
	case TypeReaction:
		m.Reaction = decodeWith(d, m.Type, convertReaction)
	case TypeButton:
		m.Button = decodeWith(d, m.Type, ptr[ButtonReply])
	case TypeOrder:
		m.Order = decodeWith(d, m.Type, convertOrder)
	case TypeSystem:
		m.System = decodeWith(d, m.Type, convertSystem)
	case TypeEdit:
		m.Edit = decodeWith(d, m.Type, convertEdit)
	case TypeRevoke:
		m.Revoke = decodeWith(d, m.Type, ptr[Revoke])
	}
	m.Context = decodeWith(d, "context", convertContext)
	m.Referral = decodeWith(d, "referral", convertReferral)
	d.decode("errors", &m.Errors)
	m.DecodeError = d.problem()
	return m
}

// decodeWith decodes the member key as a W and converts it; it returns the
// zero T when the member is absent, null or badly shaped.
func decodeWith[W, T any](d *fieldDecoder, key string, convert func(W) T) T {
	var w W
	if !d.decode(key, &w) {
		var zero T
		return zero
	}
	return convert(w)
}

func ptr[T any](v T) *T { return &v }

func convertMedia(w wireMedia) *Media {
	return &Media{
		ID: w.ID, MimeType: w.MimeType, SHA256: w.SHA256, Caption: w.Caption, Filename: w.Filename,
		Voice: bool(w.Voice), Animated: bool(w.Animated),
	}
}

func convertLocation(w wireLocation) *Location {
	return &Location{Lat: float64(w.Latitude), Lng: float64(w.Longitude), Name: w.Name, Address: w.Address, URL: w.URL}
}

func convertSharedContacts(ws []wireSharedContact) []SharedContact {
	out := make([]SharedContact, 0, len(ws))
	for _, w := range ws {
		c := w.SharedContact
		c.FormattedName, c.FirstName, c.LastName = w.Name.FormattedName, w.Name.FirstName, w.Name.LastName
		out = append(out, c)
	}
	return out
}

func convertInteractive(w wireInteractive) *InteractiveReply {
	r := &InteractiveReply{Type: w.Type}
	switch {
	case w.Type == InteractiveButtonReply && w.ButtonReply != nil:
		r.ID, r.Title = w.ButtonReply.ID, w.ButtonReply.Title
	case w.Type == InteractiveListReply && w.ListReply != nil:
		r.ID, r.Title, r.Description = w.ListReply.ID, w.ListReply.Title, w.ListReply.Description
	case w.Type == InteractiveFlowReply && w.NfmReply != nil:
		r.FlowName, r.FlowBody, r.FlowResponseJSON = w.NfmReply.Name, w.NfmReply.Body, w.NfmReply.ResponseJSON
	}
	return r
}

// convertReaction marks a removal: Meta omits the emoji, or sends it empty.
func convertReaction(r Reaction) *Reaction {
	r.Removed = r.Emoji == ""
	return &r
}

func convertOrder(w wireOrder) *Order {
	o := &Order{CatalogID: w.CatalogID, Text: w.Text}
	for _, it := range w.ProductItems {
		o.Items = append(o.Items, OrderItem{
			ProductRetailerID: it.ProductRetailerID,
			Quantity:          int(it.Quantity),
			ItemPrice:         float64(it.ItemPrice),
			Currency:          it.Currency,
		})
	}
	return o
}

func convertSystem(w wireSystem) *System {
	if w.WaID != "" {
		w.NewWaID = w.WaID
	}
	return &w.System
}

func convertContext(w wireContext) *Context {
	return &Context{
		From: w.From, ID: w.ID, ReferredProduct: w.ReferredProduct,
		Forwarded: bool(w.Forwarded), FrequentlyForwarded: bool(w.FrequentlyForwarded),
	}
}

func convertReferral(w wireReferral) *Referral {
	r := w.Referral
	if w.WelcomeMessage != nil {
		r.WelcomeMessage = w.WelcomeMessage.Text
	}
	return &r
}
