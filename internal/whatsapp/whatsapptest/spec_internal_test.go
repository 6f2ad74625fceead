package whatsapptest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadSpecOncePerProcess(t *testing.T) {
	t.Parallel()

	a, err := loadSpec(SpecPath(t))
	require.NoError(t, err)
	b, err := loadSpec(SpecPath(t))
	require.NoError(t, err)
	require.Same(t, a, b, "the description is loaded and patched once")

	_, err = loadSpec("/nonexistent/spec.yaml")
	require.Error(t, err)
}

func TestCheckUnknownFields(t *testing.T) {
	t.Parallel()

	s, err := loadSpec(SpecPath(t))
	require.NoError(t, err)
	tests := []struct {
		name string
		body map[string]any
		want []string
	}{
		{"clean text", map[string]any{"messaging_product": "whatsapp", "to": "1", "type": "text", "text": map[string]any{"body": "x"}}, nil},
		{"discriminator narrows: image fields on a text", map[string]any{"to": "1", "type": "text", "image": map[string]any{"id": "1"}}, []string{`unknown field "image"`}},
		{"nested in arrays", map[string]any{"type": "template", "template": map[string]any{"components": []any{
			map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "currency", "currency": map[string]any{"code": "USD", "amount": 1}}}},
		}}}, []string{`unknown field "template.components[0].parameters[0].currency.amount"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, checkUnknownFields(s.doc.Components.Schemas, s.sendSchema, tt.body))
		})
	}
}
