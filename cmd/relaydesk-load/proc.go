package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// relaydesk is the service under test, run as a child process so that it can
// be measured from /proc and killed with SIGKILL.
type relaydesk struct {
	bin     string
	args    []string
	env     []string
	logPath string
	baseURL string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	starts   int
	exitErrs []string
}

// start launches the process; ready waits for /readyz.
func (r *relaydesk) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	logf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.bin, r.args...)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", r.bin, err)
	}
	done := make(chan struct{})
	go func() {
		err := cmd.Wait()
		logf.Close()
		if err != nil {
			r.mu.Lock()
			r.exitErrs = append(r.exitErrs, err.Error())
			r.mu.Unlock()
		}
		close(done)
	}()
	r.cmd, r.done = cmd, done
	r.starts++
	return nil
}

// ready polls /readyz until it answers 200.
func (r *relaydesk) ready(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.baseURL+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("relaydesk exited during start; see %s; its last lines: %s", r.logPath, lastLines(r.logPath, 5))
		case <-ctx.Done():
			return fmt.Errorf("relaydesk not ready after %s; see %s", timeout, r.logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pid returns the running process id (0 when none).
func (r *relaydesk) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	select {
	case <-r.done:
		return 0
	default:
	}
	return r.cmd.Process.Pid
}

// kill9 kills the process with SIGKILL and waits for it to be gone.
func (r *relaydesk) kill9() {
	r.signal(syscall.SIGKILL, 10*time.Second)
}

// stop asks for a graceful shutdown, then kills after grace.
func (r *relaydesk) stop(grace time.Duration) {
	if !r.signal(syscall.SIGTERM, grace) {
		r.signal(syscall.SIGKILL, 10*time.Second)
	}
}

func (r *relaydesk) signal(sig syscall.Signal, wait time.Duration) bool {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// procSample is what /proc says about one process.
type procSample struct {
	RSS   int64 // bytes
	HWM   int64 // peak RSS since start or the last resetPeak, bytes
	Ticks int64 // user+system CPU in clock ticks
}

// clkTck is the kernel's USER_HZ, 100 on every Linux this runs on.
const clkTck = 100

func readProc(pid int) (procSample, error) {
	var s procSample
	if pid <= 0 {
		return s, errors.New("no process")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.RSS = n << 10
		case "VmHWM":
			s.HWM = n << 10
		}
	}
	s.Ticks, err = cpuTicks(pid)
	return s, err
}

// cpuTicks reads utime+stime from /proc/<pid>/stat.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unparsable stat")
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0, errors.New("short stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

// resetPeak resets VmHWM (clear_refs 5), so the next reading is the peak
// from now on. It reports whether the kernel allowed it.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

// treeTicks sums the CPU ticks of pid and its direct children (the
// PostgreSQL postmaster and its backends).
func treeTicks(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	total, _ := cpuTicks(pid)
	// Backends that have exited are counted in the postmaster's cutime+cstime.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 {
			if f := strings.Fields(string(b[i+2:])); len(f) > 14 {
				cu, _ := strconv.ParseInt(f[13], 10, 64)
				cs, _ := strconv.ParseInt(f[14], 10, 64)
				total += cu + cs
			}
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+2:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			t, _ := cpuTicks(child)
			total += t
		}
	}
	return total
}

// redactURL drops the password of a database URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func withDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// lastLines is the end of a log file, for an error that names it: the
// tool's temporary directory is removed when a run ends.
func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " | ")
}
