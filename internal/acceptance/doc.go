// Package acceptance runs relaydesk as its users do: the real binary, built
// once, started as a child process configured only by environment variables
// and a declarative file in the README's shape, with production defaults,
// against the fake Graph API and a fake (or, for Request Tracker, a real)
// helpdesk. Everything is in its tests; no other package imports it.
//
//	TEST_DATABASE_URL=$(scripts/dev-db postgres) go test -count=1 ./internal/acceptance/...
package acceptance
