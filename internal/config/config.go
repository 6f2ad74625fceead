// Package config reads relaydesk's settings from the environment and from the
// optional declarative file named by RELAYDESK_CONFIG.
//
// Load reports every invalid or missing setting at once, by variable name and
// with what is expected, so that one start-up attempt shows everything to fix.
// Nothing here touches the database or the network.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/relaydesk/relaydesk/internal/secret"
)

// Config is the validated process configuration.
type Config struct {
	DatabaseURL      string
	Listen           string
	BaseURL          *url.URL
	SecretKey        []byte
	SecretKeyOld     []byte // nil when not set
	ConfigFile       string // path of the declarative file, "" when not set
	LogLevel         slog.Level
	LogFormat        string // "json" or "text"
	TLSCert, TLSKey  string
	TrustedProxies   []netip.Prefix
	AutoMigrate      bool
	WebhookRetention time.Duration
	WebhookMaxBytes  int64
	ShutdownTimeout  time.Duration
	Workers          int
	ReplyWorkers     int
	// FetchCooldown and FetchPollInterval are River's fetch settings.
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	DBMaxConns        int32
	// ReplyDBConns of DBMaxConns are a pool of their own for replies.
	ReplyDBConns int32
	PprofListen  string // loopback host:port for net/http/pprof, "" when off
	// InboundSettle is how long customer messages wait for late webhooks of
	// their burst before any is posted (0: off).
	InboundSettle time.Duration
	// IntakeWindow, IntakeBatch and IntakeDeadline are the WhatsApp
	// intake's group commit (window 0: one transaction per delivery).
	IntakeWindow   time.Duration
	IntakeBatch    int
	IntakeDeadline time.Duration
	// AllowPrivateURLs lets the admin page take Graph and helpdesk URLs on
	// loopback or link-local addresses (tests, demos).
	AllowPrivateURLs bool
	// CallTimeout bounds one call to a helpdesk or to Graph.
	CallTimeout time.Duration
	// MessageRetention, when above zero, is how long message bodies and
	// payloads are kept (0: forever).
	MessageRetention time.Duration
}

// Var describes one environment variable: the README's configuration
// reference is written from the same facts.
type Var struct {
	Name, Default, Expect string
}

// Vars lists every variable Load reads, in the order the README documents them.
var Vars = []Var{
	{"DATABASE_URL", "", "a PostgreSQL URL, e.g. postgres://relaydesk@127.0.0.1:5432/relaydesk"},
	{"RELAYDESK_LISTEN", "127.0.0.1:8080", "host:port to listen on"},
	{"RELAYDESK_BASE_URL", "", "the public https URL of this service (http only for localhost), e.g. https://relaydesk.example.com"},
	{"RELAYDESK_SECRET_KEY", "", "32 random bytes in base64 (openssl rand -base64 32)"},
	{"RELAYDESK_SECRET_KEY_OLD", "", "the previous secret key during a key rotation (optional)"},
	{"RELAYDESK_CONFIG", "", "path of a declarative YAML file (optional)"},
	{"RELAYDESK_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"RELAYDESK_LOG_FORMAT", "json", "json or text"},
	{"RELAYDESK_TLS_CERT", "", "PEM certificate file to serve HTTPS directly (with RELAYDESK_TLS_KEY)"},
	{"RELAYDESK_TLS_KEY", "", "PEM private key file (with RELAYDESK_TLS_CERT)"},
	{"RELAYDESK_TRUSTED_PROXIES", "", "comma-separated CIDRs whose X-Forwarded-* headers are believed, e.g. 10.0.0.0/8"},
	{"RELAYDESK_AUTO_MIGRATE", "false", "true to apply pending migrations when serve starts"},
	{"RELAYDESK_WEBHOOK_RETENTION", "168h", "how long raw webhook deliveries are kept (Go duration)"},
	{"RELAYDESK_WEBHOOK_MAX_BYTES", "4194304", "largest accepted webhook body in bytes"},
	{"RELAYDESK_SHUTDOWN_TIMEOUT", "30s", "how long shutdown waits for requests and jobs to finish"},
	{"RELAYDESK_WORKERS", "200", "River workers per process (they mostly wait on helpdesk and Graph calls)"},
	{"RELAYDESK_REPLY_WORKERS", "50", "River workers per process for agents' replies, apart from RELAYDESK_WORKERS so that a backlog of customer messages never delays a reply"},
	{"RELAYDESK_DB_MAX_CONNS", "30", "largest PostgreSQL pool size"},
	{"RELAYDESK_REPLY_DB_CONNS", "4", "how many of RELAYDESK_DB_MAX_CONNS are kept for agents' replies, so that they never wait behind customer messages for a connection (0: replies share the pool; unset with a pool under 20: a fifth of it)"},
	{"RELAYDESK_FETCH_COOLDOWN", "20ms", "shortest time between two fetches of River jobs; a process works at most RELAYDESK_WORKERS jobs per cooldown (Go duration, 1ms to 1s)"},
	{"RELAYDESK_FETCH_POLL_INTERVAL", "1s", "how often River looks for jobs when no insert notification came (Go duration, from the cooldown to 1m)"},
	{"RELAYDESK_PPROF_LISTEN", "", "loopback host:port serving Go's pprof profiles, e.g. 127.0.0.1:6060 (optional; off when unset)"},
	{"RELAYDESK_INBOUND_SETTLE", "1s", "how long customer messages wait for late webhooks of their burst, to be posted in the customer's order (Go duration, 0 to 10s; 0 turns it off)"},
	{"RELAYDESK_INTAKE_WINDOW", "2ms", "how long a WhatsApp delivery may wait for others to share one database transaction when the intake's transactions are busy (Go duration, 0 to 50ms; 0 stores each delivery in its own)"},
	{"RELAYDESK_INTAKE_BATCH", "64", "most WhatsApp deliveries stored by one intake transaction (1 to 1000)"},
	{"RELAYDESK_INTAKE_DEADLINE", "10s", "how long a webhook (WhatsApp or helpdesk) may take to be authenticated against its number or connection and stored before it is answered 503 so its sender retries it (Go duration, 100ms to 60s)"},
	{"RELAYDESK_ALLOW_PRIVATE_URLS", "false", "true to let the admin page take Graph and helpdesk URLs on loopback or link-local addresses (only for tests and demos whose fakes run on 127.0.0.1)"},
	{"RELAYDESK_CALL_TIMEOUT", "30s", "how long one call to a helpdesk or to Graph may take before it counts as a transient failure (Go duration, 1s to 5m)"},
	{"RELAYDESK_MESSAGE_RETENTION", "", "how long message bodies and payloads are kept, e.g. 2160h for 90 days (Go duration, at least 24h; unset keeps them)"},
}

// maxInboundSettle bounds RELAYDESK_INBOUND_SETTLE: the window is latency
// added to every burst, and the job holds its conversation meanwhile.
const maxInboundSettle = 10 * time.Second

// maxIntakeWindow bounds RELAYDESK_INTAKE_WINDOW: the wait is latency
// added to a delivery under load.
const maxIntakeWindow = 50 * time.Millisecond

// maxCallTimeout bounds RELAYDESK_CALL_TIMEOUT: a delivery job holds its
// conversation while it waits.
const maxCallTimeout = 5 * time.Minute

// Getenv looks up a variable; os.Getenv in production, a map in tests.
type Getenv func(string) string

// Load parses and validates the whole configuration. The error, when not nil,
// is an *Errors listing every problem.
func Load(getenv Getenv) (*Config, error) {
	p := parser{getenv: getenv}
	c := &Config{}

	c.DatabaseURL = p.databaseURL()
	c.Listen = p.str("RELAYDESK_LISTEN")
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p.fail("RELAYDESK_LISTEN", "host:port to listen on")
	}
	c.BaseURL = p.baseURL()
	c.SecretKey = p.key("RELAYDESK_SECRET_KEY", true)
	c.SecretKeyOld = p.key("RELAYDESK_SECRET_KEY_OLD", false)
	c.ConfigFile = p.str("RELAYDESK_CONFIG")
	if c.ConfigFile != "" {
		if st, err := os.Stat(c.ConfigFile); err != nil || st.IsDir() {
			p.fail("RELAYDESK_CONFIG", "a readable YAML file (cannot read "+c.ConfigFile+")")
		}
	}
	c.LogLevel, c.LogFormat = p.logging()
	c.TLSCert, c.TLSKey = p.tls()
	c.TrustedProxies = p.proxies()
	c.AutoMigrate = p.boolean("RELAYDESK_AUTO_MIGRATE")
	c.WebhookRetention = p.duration("RELAYDESK_WEBHOOK_RETENTION", time.Hour)
	c.WebhookMaxBytes = int64(p.integer("RELAYDESK_WEBHOOK_MAX_BYTES", 1024, 64<<20))
	c.ShutdownTimeout = p.duration("RELAYDESK_SHUTDOWN_TIMEOUT", time.Second)
	c.Workers = p.integer("RELAYDESK_WORKERS", 1, 10000)
	c.ReplyWorkers = p.integer("RELAYDESK_REPLY_WORKERS", 1, 10000)
	c.DBMaxConns = int32(p.integer("RELAYDESK_DB_MAX_CONNS", 2, 1000))
	c.ReplyDBConns = int32(p.integer("RELAYDESK_REPLY_DB_CONNS", 0, 1000))
	if strings.TrimSpace(getenv("RELAYDESK_REPLY_DB_CONNS")) == "" {
		// Unset: 4, or a fifth of a smaller pool, so that lowering
		// RELAYDESK_DB_MAX_CONNS alone never makes the settings invalid.
		c.ReplyDBConns = min(c.ReplyDBConns, max(c.DBMaxConns, 0)/5)
	} else if c.DBMaxConns >= 2 && c.ReplyDBConns > c.DBMaxConns-2 {
		p.fail("RELAYDESK_REPLY_DB_CONNS", "a number from 0 to RELAYDESK_DB_MAX_CONNS - 2 (the rest of the pool needs at least 2)")
	}
	c.FetchCooldown = p.duration("RELAYDESK_FETCH_COOLDOWN", time.Millisecond)
	if c.FetchCooldown > time.Second {
		p.fail("RELAYDESK_FETCH_COOLDOWN", "a Go duration from 1ms to 1s, e.g. 20ms")
		c.FetchCooldown = time.Millisecond // compare the poll interval with the smallest
	}
	c.FetchPollInterval = p.duration("RELAYDESK_FETCH_POLL_INTERVAL", time.Millisecond)
	if c.FetchPollInterval < c.FetchCooldown || c.FetchPollInterval > time.Minute {
		p.fail("RELAYDESK_FETCH_POLL_INTERVAL", "a Go duration from RELAYDESK_FETCH_COOLDOWN to 1m, e.g. 1s")
	}
	c.PprofListen = p.pprof()
	c.InboundSettle = p.duration("RELAYDESK_INBOUND_SETTLE", 0)
	if c.InboundSettle > maxInboundSettle {
		p.fail("RELAYDESK_INBOUND_SETTLE", "a Go duration from 0 to "+maxInboundSettle.String()+", e.g. 1s")
	}
	c.IntakeWindow = p.duration("RELAYDESK_INTAKE_WINDOW", 0)
	if c.IntakeWindow > maxIntakeWindow {
		p.fail("RELAYDESK_INTAKE_WINDOW", "a Go duration from 0 to "+maxIntakeWindow.String()+", e.g. 2ms")
	}
	c.IntakeBatch = p.integer("RELAYDESK_INTAKE_BATCH", 1, 1000)
	c.IntakeDeadline = p.duration("RELAYDESK_INTAKE_DEADLINE", 100*time.Millisecond)
	if c.IntakeDeadline > time.Minute {
		p.fail("RELAYDESK_INTAKE_DEADLINE", "a Go duration from 100ms to 1m, e.g. 10s")
	}
	if p.str("RELAYDESK_MESSAGE_RETENTION") != "" {
		c.MessageRetention = p.duration("RELAYDESK_MESSAGE_RETENTION", 24*time.Hour)
	}
	c.CallTimeout = p.duration("RELAYDESK_CALL_TIMEOUT", time.Second)
	if c.CallTimeout > maxCallTimeout {
		p.fail("RELAYDESK_CALL_TIMEOUT", "a Go duration from 1s to "+maxCallTimeout.String()+", e.g. 30s")
	}

	c.AllowPrivateURLs = p.boolean("RELAYDESK_ALLOW_PRIVATE_URLS")

	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadDatabase reads only what the migrate command needs.
func LoadDatabase(getenv Getenv) (dbURL string, level slog.Level, format string, err error) {
	p := parser{getenv: getenv}
	dbURL = p.databaseURL()
	level, format = p.logging()
	return dbURL, level, format, p.err()
}

// Keyring builds the secret keyring from the configured keys.
func (c *Config) Keyring() (*secret.Keyring, error) {
	return secret.NewKeyring(c.SecretKey, c.SecretKeyOld)
}

// Problem is one invalid or missing setting.
type Problem struct {
	Name, Expect, Got string
}

// Errors is every problem Load found.
type Errors []Problem

func (e Errors) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e {
		b.WriteString("\n  ")
		b.WriteString(p.Name)
		if p.Got == "" {
			b.WriteString(" is not set: want ")
		} else {
			b.WriteString(" = ")
			b.WriteString(p.Got)
			b.WriteString(": want ")
		}
		b.WriteString(p.Expect)
	}
	return b.String()
}

type parser struct {
	getenv   Getenv
	problems Errors
}

func (p *parser) err() error {
	if len(p.problems) == 0 {
		return nil
	}
	return p.problems
}

func defaultOf(name string) string {
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: undocumented variable " + name)
}

func (p *parser) str(name string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return defaultOf(name)
}

// fail records a problem. Values of secret variables are never echoed.
func (p *parser) fail(name, expect string) {
	got := strings.TrimSpace(p.getenv(name))
	if strings.Contains(name, "SECRET") || name == "DATABASE_URL" {
		if got != "" {
			got = "(hidden)"
		}
	} else if got != "" {
		got = strconv.Quote(got)
	}
	p.problems = append(p.problems, Problem{Name: name, Expect: expect, Got: got})
}

func (p *parser) databaseURL() string {
	v := p.str("DATABASE_URL")
	if v == "" {
		p.fail("DATABASE_URL", "a PostgreSQL URL, e.g. postgres://relaydesk@127.0.0.1:5432/relaydesk")
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		p.fail("DATABASE_URL", "a postgres:// or postgresql:// URL")
	}
	return v
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *parser) baseURL() *url.URL {
	const expect = "the public https URL of this service, e.g. https://relaydesk.example.com (http only for localhost)"
	v := p.str("RELAYDESK_BASE_URL")
	if v == "" {
		p.fail("RELAYDESK_BASE_URL", expect)
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		p.fail("RELAYDESK_BASE_URL", expect)
		return nil
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		p.fail("RELAYDESK_BASE_URL", expect)
		return nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u
}

func (p *parser) key(name string, required bool) []byte {
	v := strings.TrimSpace(p.getenv(name))
	if v == "" {
		if required {
			p.fail(name, "32 random bytes in base64 (generate one with: openssl rand -base64 32)")
		}
		return nil
	}
	k, err := secret.ParseKey(v)
	if err != nil {
		p.fail(name, "32 random bytes in base64 (the value "+err.Error()+")")
		return nil
	}
	return k
}

func (p *parser) logging() (slog.Level, string) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(p.str("RELAYDESK_LOG_LEVEL"))); err != nil {
		p.fail("RELAYDESK_LOG_LEVEL", "debug, info, warn or error")
	}
	format := strings.ToLower(p.str("RELAYDESK_LOG_FORMAT"))
	if format != "json" && format != "text" {
		p.fail("RELAYDESK_LOG_FORMAT", "json or text")
	}
	return level, format
}

func (p *parser) tls() (cert, key string) {
	cert, key = p.str("RELAYDESK_TLS_CERT"), p.str("RELAYDESK_TLS_KEY")
	if (cert == "") != (key == "") {
		p.fail("RELAYDESK_TLS_CERT", "both RELAYDESK_TLS_CERT and RELAYDESK_TLS_KEY, or neither")
		return "", ""
	}
	for name, f := range map[string]string{"RELAYDESK_TLS_CERT": cert, "RELAYDESK_TLS_KEY": key} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			p.fail(name, "a readable PEM file (cannot read "+f+")")
		}
	}
	return cert, key
}

func (p *parser) proxies() []netip.Prefix {
	v := p.str("RELAYDESK_TRUSTED_PROXIES")
	if v == "" {
		return nil
	}
	var out []netip.Prefix
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			if addr, aerr := netip.ParseAddr(s); aerr == nil {
				pfx = netip.PrefixFrom(addr, addr.BitLen())
			} else {
				p.fail("RELAYDESK_TRUSTED_PROXIES", "comma-separated CIDRs such as 10.0.0.0/8,192.168.1.5/32 (bad entry "+strconv.Quote(s)+")")
				return nil
			}
		}
		out = append(out, pfx.Masked())
	}
	return out
}

// pprof accepts only a loopback address: profiles reveal internals and
// must never be served on a public interface.
func (p *parser) pprof() string {
	v := p.str("RELAYDESK_PPROF_LISTEN")
	if v == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(v)
	if err != nil || !isLoopback(host) {
		p.fail("RELAYDESK_PPROF_LISTEN", "a loopback host:port such as 127.0.0.1:6060")
		return ""
	}
	return v
}

func (p *parser) boolean(name string) bool {
	b, err := strconv.ParseBool(p.str(name))
	if err != nil {
		p.fail(name, "true or false")
	}
	return b
}

func (p *parser) duration(name string, min time.Duration) time.Duration {
	d, err := time.ParseDuration(p.str(name))
	if err != nil || d < min {
		p.fail(name, fmt.Sprintf("a Go duration of at least %s, e.g. %s", min, defaultOf(name)))
	}
	return d
}

func (p *parser) integer(name string, min, max int) int {
	n, err := strconv.Atoi(p.str(name))
	if err != nil || n < min || n > max {
		p.fail(name, fmt.Sprintf("an integer from %d to %d", min, max))
	}
	return n
}

// IsConfigError reports whether err came from Load.
func IsConfigError(err error) bool {
	var e Errors
	return errors.As(err, &e)
}
