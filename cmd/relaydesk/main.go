// Command relaydesk bridges WhatsApp chats and helpdesk tickets.
//
//	relaydesk serve                      run the HTTP service and the job workers
//	relaydesk migrate up|down|status     manage the database schema
//	relaydesk check-config [--online]    validate the configuration (and contact what it names) and exit
//	relaydesk version                    print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

const usage = `usage: relaydesk <command> [flags]

commands:
  serve                  run the HTTP service and the job workers
  migrate up             apply pending database migrations
  migrate down [-to N]   revert app migrations down to version N (default: one step; 0 also removes River's tables)
  migrate status         show the applied and latest schema versions
  check-config           validate the environment and RELAYDESK_CONFIG, then exit
  check-config --online  also contact each WhatsApp number and helpdesk, one line each; exit 1 if any fails
  admin create --email E     add an admin of the admin page (password from stdin, or generated and printed)
  admin password --email E   set an admin's password (from stdin, or generated) and end their sessions
  secrets reseal             re-encrypt stored secrets under RELAYDESK_SECRET_KEY after a key rotation
  contacts erase --wa-id N [--helpdesk]  erase a customer's data (and their requester in helpdesks whose API can)
  version                print the version

Configuration comes from environment variables; see README.md.
`

// exitUsage is the exit code for a bad command line.
const exitUsage = 2

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = serve(ctx, rest, stderr)
	case "migrate":
		err = migrateCmd(ctx, rest, stdout, stderr)
	case "check-config":
		err = checkConfig(ctx, os.Getenv, rest, stdout, stderr)
	case "admin":
		err = adminCmd(ctx, rest, os.Stdin, stdout, stderr)
	case "secrets":
		err = secretsCmd(ctx, rest, stdout, stderr)
	case "contacts":
		err = contactsCmd(ctx, rest, stdout, stderr)
	case "version":
		if err = noFlags("version", rest, stderr); err == nil {
			fmt.Fprintln(stdout, "relaydesk", versionString())
		}
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "relaydesk: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	return exitCode(err, stderr)
}

// exitCode is the process's exit code after a command's error: 0, 2 for a
// usage mistake (already printed), else 1 with the error on stderr.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return exitUsage
	default:
		fmt.Fprintln(stderr, "relaydesk:", err)
		return 1
	}
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// flags parses a command's flags; mistakes print usage and return errUsage.
func flags(name string, args []string, stderr io.Writer, define func(*flag.FlagSet)) (*flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if define != nil {
		define(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			return nil, errUsage
		}
		fmt.Fprintf(stderr, "relaydesk %s: %v\n\n%s", name, err, usage)
		return nil, errUsage
	}
	return fs, nil
}

func noFlags(name string, args []string, stderr io.Writer) error {
	return flagsOnly(name, args, stderr, nil)
}

// flagsOnly parses a command's flags and refuses any other argument.
func flagsOnly(name string, args []string, stderr io.Writer, define func(*flag.FlagSet)) error {
	fs, err := flags(name, args, stderr, define)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "relaydesk %s: unexpected argument %q\n\n%s", name, fs.Arg(0), usage)
		return errUsage
	}
	return nil
}

func loadAll(getenv config.Getenv) (*config.Config, *config.File, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, nil, err
	}
	file, err := app.LoadFile(cfg, getenv)
	if err != nil {
		return nil, nil, err
	}
	return cfg, file, nil
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	if err := noFlags("serve", args, stderr); err != nil {
		return err
	}
	cfg, file, err := loadAll(os.Getenv)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	log.Info("starting relaydesk", "version", versionString())
	return app.Serve(ctx, cfg, file, log, nil)
}

// checkConfig validates the configuration; with --online it then contacts
// what the configuration names (see checkOnline).
func checkConfig(ctx context.Context, getenv config.Getenv, args []string, stdout, stderr io.Writer) error {
	var online bool
	if err := flagsOnly("check-config", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&online, "online", false, "contact each number and helpdesk")
	}); err != nil {
		return err
	}
	cfg, file, err := loadAll(getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "configuration is valid (listen %s, base URL %s", cfg.Listen, cfg.BaseURL)
	if file != nil {
		fmt.Fprintf(stdout, "; %s: %d whatsapp, %d helpdesks, %d routes", file.Path, len(file.WhatsApp), len(file.Helpdesks), len(file.Routes))
	}
	fmt.Fprintln(stdout, ")")
	if online {
		return checkOnline(ctx, cfg, file, stdout)
	}
	return nil
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "relaydesk migrate: want up, down or status\n\n%s", usage)
		return errUsage
	}
	sub := args[0]
	to := -1
	fs, err := flags("migrate "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		if sub == "down" {
			fs.IntVar(&to, "to", -1, "target version")
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || (sub != "up" && sub != "down" && sub != "status") {
		fmt.Fprintf(stderr, "relaydesk migrate: want up, down [-to N] or status\n\n%s", usage)
		return errUsage
	}

	pool, log, err := openDatabase(ctx, os.Getenv, 4)
	if err != nil {
		return err
	}
	defer pool.Close()

	switch sub {
	case "up":
		if err := migrate.Up(ctx, pool, log); err != nil {
			return err
		}
	case "down":
		st, err := migrate.Get(ctx, pool)
		if err != nil {
			return err
		}
		target := int32(to)
		if to < 0 {
			target = max(st.AppVersion-1, 0)
		}
		if err := migrate.Down(ctx, pool, log, target); err != nil {
			return err
		}
	}
	st, err := migrate.Get(ctx, pool)
	if err != nil {
		return err
	}
	state := "current"
	if !st.Current() {
		state = "pending migrations: run `relaydesk migrate up`"
	}
	fmt.Fprintf(stdout, "%s (%s)\n", st, state)
	return nil
}

// openDatabase connects to DATABASE_URL for a command that needs only the
// database, and returns the logger the environment asks for.
func openDatabase(ctx context.Context, getenv config.Getenv, maxConns int32) (*pgxpool.Pool, *slog.Logger, error) {
	dbURL, level, format, err := config.LoadDatabase(getenv)
	if err != nil {
		return nil, nil, err
	}
	log := app.NewLogger(level, format)
	pool, err := store.OpenPool(ctx, dbURL, maxConns)
	if err != nil {
		return nil, nil, err
	}
	return pool, log, nil
}
