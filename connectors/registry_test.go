package connectors_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

func testDescription(kind string) connectors.Description {
	return connectors.Description{
		Kind:        kind,
		DisplayName: "Test Desk",
		AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken, connectors.AuthOAuth2},
		Fields: []connectors.Field{
			{Key: connectors.SettingAuthMethod, Type: connectors.FieldSelect, Group: connectors.GroupSettings,
				Options: []connectors.Option{{Value: "api_token"}, {Value: "oauth2"}}},
			{Key: "url", Type: connectors.FieldURL, Group: connectors.GroupSettings, Required: true},
			{Key: "code", Type: connectors.FieldString, Group: connectors.GroupSettings, Pattern: `[A-Z]{3}`},
			{Key: "verbose", Type: connectors.FieldBool, Group: connectors.GroupSettings},
			{Key: "limit", Type: connectors.FieldInt, Group: connectors.GroupSettings},
			{Key: "region", Type: connectors.FieldSelect, Group: connectors.GroupSettings, Options: []connectors.Option{{Value: "eu"}, {Value: "us"}}},
			{Key: "email", Type: connectors.FieldEmail, Group: connectors.GroupCredentials, AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken}},
			{Key: "token", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true, AuthMethods: []connectors.AuthMethod{connectors.AuthAPIToken}},
			{Key: "client_secret", Type: connectors.FieldSecret, Group: connectors.GroupCredentials, Required: true, Secret: true, AuthMethods: []connectors.AuthMethod{connectors.AuthOAuth2}},
		},
	}
}

func nopFactory(connectors.Config) (connectors.Connector, error) {
	return nil, errors.New("not built in tests")
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	r := connectors.NewRegistry()
	r.Register(testDescription("zeta"), nopFactory)
	r.Register(testDescription("alpha"), nopFactory)

	require.Equal(t, []string{"alpha", "zeta"}, r.Kinds())
	all := r.All()
	require.Len(t, all, 2)
	require.Equal(t, "alpha", all[0].Description.Kind)

	reg, ok := r.Lookup("zeta")
	require.True(t, ok)
	require.Equal(t, "Test Desk", reg.Description.DisplayName)
	_, ok = r.Lookup("nope")
	require.False(t, ok)

	require.PanicsWithValue(t, "connectors: register alpha: duplicate kind", func() { r.Register(testDescription("alpha"), nopFactory) })
	require.Panics(t, func() { r.Register(testDescription("beta"), nil) })

	_, err := r.New("nope", connectors.Config{})
	require.ErrorContains(t, err, `unknown kind "nope"`)
	_, err = r.New("alpha", connectors.Config{})
	var verr connectors.ValidationError
	require.ErrorAs(t, err, &verr)
}

func TestRegisterRejectsBadDescriptions(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*connectors.Description){
		"empty kind":         func(d *connectors.Description) { d.Kind = "" },
		"upper-case kind":    func(d *connectors.Description) { d.Kind = "Zendesk" },
		"no auth method":     func(d *connectors.Description) { d.AuthMethods = nil },
		"unknown field type": func(d *connectors.Description) { d.Fields[1].Type = "date" },
		"unknown group":      func(d *connectors.Description) { d.Fields[1].Group = "misc" },
		"duplicate key":      func(d *connectors.Description) { d.Fields[2].Key = "url" },
		"secret in settings": func(d *connectors.Description) { d.Fields[2].Secret = true },
		"empty select":       func(d *connectors.Description) { d.Fields[5].Options = nil },
		"bad pattern":        func(d *connectors.Description) { d.Fields[2].Pattern = "[" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := testDescription("kind")
			mutate(&d)
			require.Panics(t, func() { connectors.NewRegistry().Register(d, nopFactory) })
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	d := testDescription("desk")
	tests := []struct {
		name        string
		settings    map[string]any
		credentials map[string]string
		want        connectors.ValidationError
	}{
		{
			name:        "valid api token config",
			settings:    map[string]any{"url": "https://desk.example", "code": "ABC", "verbose": "true", "limit": float64(10), "region": "eu"},
			credentials: map[string]string{"email": "a@b.co", "token": "t"},
		},
		{
			name:        "valid oauth2 config ignores api token fields",
			settings:    map[string]any{"auth_method": "oauth2", "url": "http://localhost:8080", "verbose": true, "limit": 3},
			credentials: map[string]string{"client_secret": "s"},
		},
		{
			name:     "every problem at once",
			settings: map[string]any{"url": "desk.example", "code": "abcd", "verbose": "maybe", "limit": 1.5, "region": "mars", "extra": 1},
			credentials: map[string]string{
				"email": "not an email", "other": "x",
			},
			want: connectors.ValidationError{
				{Group: connectors.GroupSettings, Key: "url", Message: "must be an absolute http(s) URL"},
				{Group: connectors.GroupSettings, Key: "code", Message: "has an invalid format"},
				{Group: connectors.GroupSettings, Key: "verbose", Message: "must be true or false"},
				{Group: connectors.GroupSettings, Key: "limit", Message: "must be a whole number"},
				{Group: connectors.GroupSettings, Key: "region", Message: `must be one of "eu", "us"`},
				{Group: connectors.GroupCredentials, Key: "email", Message: "must be an email address"},
				{Group: connectors.GroupCredentials, Key: "token", Message: "is required"},
				{Group: connectors.GroupSettings, Key: "extra", Message: "unknown setting"},
				{Group: connectors.GroupCredentials, Key: "other", Message: "unknown credential"},
			},
		},
		{
			name:     "unsupported auth method",
			settings: map[string]any{"auth_method": "saml", "url": "https://x.example"},
			want: connectors.ValidationError{
				{Group: connectors.GroupSettings, Key: "auth_method", Message: `unsupported auth method "saml"`},
				{Group: connectors.GroupSettings, Key: "auth_method", Message: `must be one of "api_token", "oauth2"`},
			},
		},
		{
			name:     "blank values count as missing",
			settings: map[string]any{"url": "  "},
			credentials: map[string]string{
				"token": "",
			},
			want: connectors.ValidationError{
				{Group: connectors.GroupSettings, Key: "url", Message: "is required"},
				{Group: connectors.GroupCredentials, Key: "token", Message: "is required"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := d.Validate(tt.settings, tt.credentials)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var got connectors.ValidationError
			require.ErrorAs(t, err, &got)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestValidateNeverEchoesValues(t *testing.T) {
	t.Parallel()
	d := testDescription("desk")
	err := d.Validate(map[string]any{"url": "https://x.example", "code": "s3cr3t-value"}, map[string]string{"email": "hunter2", "token": "t"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cr3t-value")
	require.NotContains(t, err.Error(), "hunter2")
}

func TestSettingReaders(t *testing.T) {
	t.Parallel()
	for _, v := range []any{true, "true", "1", " TRUE "} {
		b, ok := connectors.AsBool(v)
		require.True(t, ok && b, "%#v", v)
	}
	_, ok := connectors.AsBool(1)
	require.False(t, ok)
	for _, v := range []any{7, int64(7), float64(7), "7", " 7 "} {
		n, ok := connectors.AsInt(v)
		require.True(t, ok, "%#v", v)
		require.Equal(t, int64(7), n)
	}
	_, ok = connectors.AsInt("7.5")
	require.False(t, ok)
	require.Equal(t, "x", connectors.AsString(" x "))
	require.Equal(t, "", connectors.AsString(3))
}
