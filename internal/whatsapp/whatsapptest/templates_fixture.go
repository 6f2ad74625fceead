package whatsapptest

import "github.com/relaydesk/relaydesk/internal/whatsapp"

// FixtureTemplates is a small catalogue for tests, in Graph's wire shape:
//   - order_update (en_US, positional): an IMAGE header, a body with two
//     variables, a URL button with a variable and a quick reply;
//   - appointment_reminder (en, named): {{first_name}} and {{date}};
//   - hello_world (en_US): Meta's sample, no variables;
//   - winter_sale (en_US): PAUSED; spring_sale (en_US): REJECTED.
func FixtureTemplates() []whatsapp.TemplateInfo {
	return []whatsapp.TemplateInfo{
		{ID: "920070352646141", Name: "order_update", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
			ParameterFormat: whatsapp.FormatPositional, Components: []whatsapp.TemplateDef{
				{Type: "HEADER", Format: "IMAGE", Example: &whatsapp.TemplateExample{HeaderHandle: []string{"https://scontent.whatsapp.net/v/t61/example.jpg"}}},
				{Type: "BODY", Text: "Hi {{1}}, your order {{2}} has shipped.",
					Example: &whatsapp.TemplateExample{BodyText: [][]string{{"Ana", "A-1042"}}}},
				{Type: "FOOTER", Text: "Reply STOP to opt out"},
				{Type: "BUTTONS", Buttons: []whatsapp.TemplateButtonDef{
					{Type: "URL", Text: "Track", URL: "https://shop.example/track/{{1}}", Example: []string{"https://shop.example/track/A-1042"}},
					{Type: "QUICK_REPLY", Text: "Stop updates"},
				}},
			}},
		{ID: "920070352646142", Name: "appointment_reminder", Language: "en", Status: "APPROVED", Category: "UTILITY",
			ParameterFormat: whatsapp.FormatNamed, Components: []whatsapp.TemplateDef{
				{Type: "BODY", Text: "Hello {{first_name}}, see you on {{date}}.",
					Example: &whatsapp.TemplateExample{BodyTextNamed: []whatsapp.NamedExample{
						{ParamName: "first_name", Example: "Jessica"}, {ParamName: "date", Example: "May 3"}}}},
			}},
		{ID: "1192339204654487", Name: "hello_world", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
			ParameterFormat: whatsapp.FormatPositional, Components: []whatsapp.TemplateDef{
				{Type: "HEADER", Format: "TEXT", Text: "Hello World"},
				{Type: "BODY", Text: "Welcome and congratulations!! This message demonstrates your ability to send a message notification from WhatsApp Business Platform's Cloud API. Thank you for taking the time to test with us."},
				{Type: "FOOTER", Text: "WhatsApp Business API Team"},
			}},
		{ID: "920070352646143", Name: "winter_sale", Language: "en_US", Status: "PAUSED", Category: "MARKETING",
			ParameterFormat: whatsapp.FormatPositional, Components: []whatsapp.TemplateDef{{Type: "BODY", Text: "Winter sale!"}}},
		{ID: "920070352646144", Name: "spring_sale", Language: "en_US", Status: "REJECTED", Category: "MARKETING",
			ParameterFormat: whatsapp.FormatPositional, Components: []whatsapp.TemplateDef{{Type: "BODY", Text: "Spring sale!"}}},
	}
}
