package bridge

// Unit tests of template replies: the syntax as each kind of helpdesk
// editor hands it over, and the check against the catalogue.

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/whatsapp"
	"github.com/relaydesk/relaydesk/internal/whatsapp/whatsapptest"
)

func TestTemplateReplySurvivesEditors(t *testing.T) {
	t.Parallel()
	want := templateReply{Name: "order_update", Language: "en_US",
		Header: map[string]string{}, Body: map[string]string{"1": "Ana María", "2": "A-1042"}, Buttons: map[int]string{0: "A-1042"}}
	for name, body := range map[string]string{
		"plain text":        "/template order_update en_US\n1: Ana María\n2: A-1042\nbutton 0: A-1042\n",
		"CRLF and blanks":   "\r\n/template order_update en_US\r\n\r\n1: Ana María\r\n2:A-1042\r\nbutton 0 : A-1042",
		"markdown escapes":  "/template order\\_update en\\_US\n\n1: Ana María\n\n2: A\\-1042\n\n- button 0: A\\-1042",
		"html editor":       "<p>/template order_update en_US</p><p>1: Ana&nbsp;María<br>2: A-1042</p><div>button 0: A-1042</div>",
		"bold command line": "**/template order_update en_US**\n1: Ana María\n2: A-1042\nbutton 0: A-1042",
		"non-breaking":      "/template\u00a0order_update en_US\n1:\u00a0Ana María\n2: A-1042\nbutton 0: A-1042",
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := parseTemplateReply(body)
			require.True(t, ok)
			require.Equal(t, want, got)
		})
	}
	for _, body := range []string{"Hello, see /template below", "", "  \n", "template order_update en_US"} {
		_, ok := parseTemplateReply(body)
		require.False(t, ok, "%q is an ordinary reply", body)
	}
	got, ok := parseTemplateReply("/template appointment_reminder en\nfirst_name: Jo\nheader title: Hi\nnot a line")
	require.True(t, ok)
	require.Equal(t, map[string]string{"first_name": "Jo"}, got.Body)
	require.Equal(t, map[string]string{"title": "Hi"}, got.Header)
	require.Len(t, got.Problems, 1, "a line that is not variable: value")
}

// catalogue is the fake Graph's fixture catalogue as the store returns it.
func catalogue(t *testing.T) []store.CatalogueTemplate {
	t.Helper()
	var out []store.CatalogueTemplate
	for _, ti := range whatsapptest.FixtureTemplates() {
		// through JSON, as stored
		data, err := json.Marshal(ti)
		require.NoError(t, err)
		var back whatsapp.TemplateInfo
		require.NoError(t, json.Unmarshal(data, &back))
		out = append(out, store.CatalogueTemplate{TemplateInfo: back})
	}
	return out
}

func TestTemplateReplyIsCheckedAgainstTheCatalogue(t *testing.T) {
	t.Parallel()
	all := catalogue(t)
	find := func(name, lang string) *store.CatalogueTemplate {
		for i := range all {
			if all[i].Name == name && all[i].Language == lang {
				return &all[i]
			}
		}
		return nil
	}
	photo := []connectors.RemoteAttachment{{Filename: "parcel.jpg", ContentType: "image/jpeg", Size: 100}}
	pdf := []connectors.RemoteAttachment{{Filename: "label.pdf", ContentType: "application/pdf", Size: 100}}
	for _, tt := range []struct {
		name  string
		body  string
		files []connectors.RemoteAttachment
		// want are the parts of the note; none: the template goes.
		want []string
	}{
		{name: "complete", body: "/template order_update en_US\n1: Ana\n2: A-1042\nbutton 0: A-1042", files: photo},
		{name: "named", body: "/template appointment_reminder en\nfirst_name: Jo\ndate: May 3"},
		{name: "no variables", body: "/template hello_world en_US"},
		{name: "unknown", body: "/template nope en_US", want: []string{`no template "nope"`, "hello_world en_US", "order_update en_US"}},
		{name: "other language", body: "/template hello_world de", want: []string{`no "de" version`, "en_US"}},
		{name: "not approved", body: "/template spring_sale en_US", want: []string{"not approved", "REJECTED"}},
		{name: "missing and extra", body: "/template order_update en_US\n1: Ana\n3: x\nbutton 0: A", files: photo,
			want: []string{"{{2}} has no value", "no variable {{3}}", "expects this reply", "2: ...   (for example A-1042)"}},
		{name: "header needs the image", body: "/template order_update en_US\n1: Ana\n2: A-1042\nbutton 0: A-1042",
			want: []string{"attach one image file", "(and an image attached to the reply, for its header)"}},
		{name: "header gets a pdf", body: "/template order_update en_US\n1: Ana\n2: A-1042\nbutton 0: A-1042", files: pdf,
			want: []string{`"label.pdf" is a document`}},
		{name: "url button missing", body: "/template order_update en_US\n1: Ana\n2: A-1042", files: photo,
			want: []string{`button 0 ("Track") needs a value`, "button 0: ..."}},
		{name: "file on a text template", body: "/template hello_world en_US", files: photo, want: []string{"remove the attachment"}},
		{name: "named given by number", body: "/template appointment_reminder en\n1: Jo\n2: May 3",
			want: []string{"{{first_name}} has no value", "no variable {{1}}", "first_name: ...   (for example Jessica)"}},
		{name: "no language", body: "/template hello_world", want: []string{"names no language"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := parseTemplateReply(tt.body)
			require.True(t, ok)
			plan, note := checkTemplateReply(r, find(r.Name, r.Language), all, tt.files)
			if len(tt.want) == 0 {
				require.Empty(t, note)
				require.Equal(t, r.Name, plan.tpl.Name)
				return
			}
			require.Contains(t, note, "NOT sent")
			for _, w := range tt.want {
				require.Contains(t, note, w)
			}
		})
	}

	r, _ := parseTemplateReply("/template appointment_reminder en\ndate: May 3\nfirst_name: Jo")
	plan, note := checkTemplateReply(r, find("appointment_reminder", "en"), all, nil)
	require.Empty(t, note)
	require.Equal(t, []whatsapp.TemplateParameter{
		{Type: "text", ParameterName: "first_name", Text: "Jo"}, {Type: "text", ParameterName: "date", Text: "May 3"},
	}, plan.tpl.Components[0].Parameters, "named values go in the template's order, with their names")

	_, note = checkTemplateReply(templateReply{Name: "x", Language: "en"}, nil, nil, nil)
	require.Contains(t, note, "Refresh templates", "an empty catalogue says how to read it")
}
