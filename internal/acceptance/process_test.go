package acceptance

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// process is relaydesk serving as a child process: started, stopped
// gracefully, killed with SIGKILL and started again with the same
// environment, address and log file.
type process struct {
	env     []string
	baseURL string
	logPath string

	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// newProcess prepares relaydesk on a free loopback port; env is its whole
// environment, to which the listen address and base URL are added.
func newProcess(t *testing.T, env []string) *process {
	t.Helper()
	addr := freeAddress(t)
	p := &process{baseURL: "http://" + addr, logPath: t.TempDir() + "/relaydesk.log"}
	p.env = append(env, "RELAYDESK_LISTEN="+addr, "RELAYDESK_BASE_URL="+p.baseURL)
	t.Cleanup(func() {
		if !p.stop() {
			t.Errorf("relaydesk did not exit within 45s of SIGTERM: killed it")
		}
		if t.Failed() {
			p.dumpLog(t)
		}
	})
	return p
}

// listenURL is where this process listens (its base URL may be another
// replica's, as behind a load balancer).
func (p *process) listenURL() string {
	for _, kv := range p.env {
		if addr, ok := strings.CutPrefix(kv, "RELAYDESK_LISTEN="); ok {
			return "http://" + addr
		}
	}
	return p.baseURL
}

// freeAddress returns a loopback address nothing listens on right now.
// It is drawn below Linux's ephemeral range (32768-60999): a port the
// kernel hands out for ":0" is also handed to other tests' outgoing
// connections, and one of them took it between this check and
// relaydesk's bind (seen once: "address already in use").
func freeAddress(t *testing.T) string {
	t.Helper()
	for range 200 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatalf("find a free port below the ephemeral range: 200 tries failed")
	return ""
}

// command runs a relaydesk subcommand other than serve to its end and
// returns its combined output.
func (p *process) command(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// start launches `relaydesk serve` and waits until /readyz answers 200.
func (p *process) start(t *testing.T) {
	t.Helper()
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatalf("open relaydesk's log: %v", err)
	}
	fmt.Fprintf(logFile, "---- start %d ----\n", p.starts+1)
	cmd := exec.Command(binary, "serve")
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start relaydesk: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
	p.starts++
	if err := p.awaitReady(2 * time.Minute); err != nil {
		t.Fatalf("relaydesk start %d: %v", p.starts, err)
	}
}

// awaitReady polls /readyz until it answers 200, the process exits or the
// deadline passes.
func (p *process) awaitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := hc.Get(p.listenURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("relaydesk exited before it was ready (exit: %v)", p.cmd.ProcessState)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz not 200 within %s", within)
		}
	}
}

// kill9 kills relaydesk with SIGKILL, as `kill -9` does, and reports
// whether it is gone. It may run on any goroutine.
func (p *process) kill9() bool {
	return p.signal(syscall.SIGKILL, 30*time.Second)
}

// stop asks relaydesk to shut down (SIGTERM), as a service manager does,
// and reports whether it exited within its default shutdown timeout (and
// some); if not, it kills it.
func (p *process) stop() bool {
	if p.signal(syscall.SIGTERM, 45*time.Second) {
		return true
	}
	p.kill9()
	return false
}

// restart stops relaydesk gracefully and starts it again.
func (p *process) restart(t *testing.T) {
	t.Helper()
	if !p.stop() {
		t.Errorf("relaydesk did not exit within 45s of SIGTERM: killed it")
	}
	p.start(t)
}

// signal sends sig and reports whether the process exited within wait.
func (p *process) signal(sig syscall.Signal, wait time.Duration) bool {
	if p.cmd == nil {
		return true
	}
	select {
	case <-p.exited:
		return true
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		return true
	case <-time.After(wait):
		return false
	}
}
