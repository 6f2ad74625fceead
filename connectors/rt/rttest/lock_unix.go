//go:build unix

package rttest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// holdServer gives this test process the test server to itself until it
// exits. Test processes share the server's users: the suite reuses phone
// numbers, and the sweep [New] runs first retires every customer user
// another process may still be using (go test runs packages, here
// connectors/rt and internal/acceptance, side by side). The lock is an
// flock on a file named after the server's URL; the kernel drops it when
// the process ends, however it ends.
func holdServer(s Server) error {
	sum := sha256.Sum256([]byte(s.URL))
	path := filepath.Join(os.TempDir(), "relaydesk-rttest-"+hex.EncodeToString(sum[:8])+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	// Not closed: the descriptor holds the lock for the process's life.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return nil
	}
	fmt.Fprintf(os.Stderr, "rttest: another test process is using the RT at %s; waiting for it (lock %s)\n", s.URL, path)
	start := time.Now()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	fmt.Fprintf(os.Stderr, "rttest: got the RT at %s after %s\n", s.URL, time.Since(start).Round(time.Second))
	return nil
}
