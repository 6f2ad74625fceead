package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a private, throwaway PostgreSQL cluster (initdb under a
// temporary directory, its own port), the way scripts/dev-db makes one. The
// soak restarts it; the machine's shared server is never touched.
type cluster struct {
	data   string
	bindir string
	port   int
	asUser []string // runuser prefix when running as root
}

// pgBindir finds the installed PostgreSQL server binaries.
func pgBindir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) < pgMajor(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found (install them with: apt-get install -y postgresql), or pass -database-url")
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// startCluster creates and starts a cluster under dir.
func startCluster(ctx context.Context, dir string) (*cluster, error) {
	bindir, err := pgBindir()
	if err != nil {
		return nil, err
	}
	c := &cluster{data: filepath.Join(dir, "pgdata"), bindir: bindir}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if _, err := user.Lookup("postgres"); err != nil {
			if out, err := exec.Command("useradd", "--system", "--shell", "/usr/sbin/nologin", "postgres").CombinedOutput(); err != nil {
				return nil, fmt.Errorf("useradd postgres: %v: %s", err, out)
			}
		}
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, err
	}
	if len(c.asUser) > 0 {
		if out, err := exec.Command("chown", "-R", "postgres", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown: %v: %s", err, out)
		}
	}
	if err := c.run(ctx, "initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
		return nil, err
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := c.run(ctx, "pg_ctl", "-D", c.data, "-l", filepath.Join(c.data, "server.log"), "-w", "-t", "60",
		"-o", c.serverOpts(), "start"); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *cluster) serverOpts() string {
	// pg_stat_statements (in Debian's server package) lets the bench
	// count statements per message.
	return fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=300 -c shared_preload_libraries=pg_stat_statements", c.port, c.data)
}

func (c *cluster) run(ctx context.Context, tool string, args ...string) error {
	argv := append(append([]string{}, c.asUser...), append([]string{filepath.Join(c.bindir, tool)}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", tool, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// URL is the maintenance database's URL.
func (c *cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Restart stops the server the hard way (immediate: like a crash, with WAL
// recovery at start) and starts it again on the same port.
func (c *cluster) Restart(ctx context.Context) error {
	return c.run(ctx, "pg_ctl", "-D", c.data, "-m", "immediate", "-w", "-t", "60", "-o", c.serverOpts(),
		"-l", filepath.Join(c.data, "server.log"), "restart")
}

// Stop stops the server.
func (c *cluster) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_ = c.run(ctx, "pg_ctl", "-D", c.data, "-m", "fast", "-w", "stop")
}

// postmasterPID reads the server's process id.
func (c *cluster) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(c.data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// freePort finds a free loopback port for a server the tool starts
// (PostgreSQL, relaydesk). It is drawn below Linux's ephemeral range
// (32768-60999), and away from the acceptance tests' 20000-31999: a port
// the kernel hands out for outgoing connections could be taken by one while
// a killed relaydesk restarts on it. Each candidate is checked by listening
// on it.
func freePort() (int, error) {
	var err error
	for range 200 {
		port := 10000 + rand.IntN(10000)
		var ln net.Listener
		if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			ln.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port in 10000-19999 after 200 tries: %w", err)
}

// recreateDatabase drops (if present) and creates database name on the
// server of adminURL, and returns the new database's URL.
func recreateDatabase(ctx context.Context, adminURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", redactURL(adminURL), err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", err
	}
	return withDatabase(adminURL, name)
}

// dropDatabase removes a scratch database.
func dropDatabase(adminURL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}
