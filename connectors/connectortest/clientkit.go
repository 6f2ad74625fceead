package connectortest

// Checks the connectors' own tests share.

import (
	"testing"

	"github.com/relaydesk/relaydesk/connectors"
	"github.com/stretchr/testify/require"
)

// ConfigProblems is a configuration a connector's New must refuse, with the
// texts its error must contain.
type ConfigProblems struct {
	Name     string
	Config   connectors.Config
	Problems []string
}

// RequireConfigProblems runs a parallel subtest per case: newConnector must
// refuse the case's configuration with an error that contains each of its
// problems.
func RequireConfigProblems[C any](t *testing.T, newConnector func(connectors.Config) (C, error), cases []ConfigProblems) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			_, err := newConnector(tt.Config)
			require.Error(t, err)
			for _, p := range tt.Problems {
				require.Contains(t, err.Error(), p)
			}
		})
	}
}
