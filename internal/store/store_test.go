package store_test

import (
	"testing"

	"github.com/relaydesk/relaydesk/internal/store"
	"github.com/relaydesk/relaydesk/internal/testdb"
)

type testBundle struct {
	store *store.Store
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return &testBundle{store: testdb.NewStore(t)}
}
