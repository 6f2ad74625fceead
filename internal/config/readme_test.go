package config_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/internal/config"
)

// TestREADMEDocumentsEveryVariable keeps the configuration reference honest.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, v := range config.Vars {
		require.Contains(t, string(readme), "`"+v.Name+"`", "README.md does not document %s", v.Name)
	}
}
