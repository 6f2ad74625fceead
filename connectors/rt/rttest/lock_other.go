//go:build !unix

package rttest

// holdServer is a no-op where flock is missing: run one test process
// against the test server at a time there.
func holdServer(Server) error { return nil }
