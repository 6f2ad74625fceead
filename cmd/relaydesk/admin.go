package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/password"
	"github.com/relaydesk/relaydesk/internal/store"
)

// maxPasswordInput bounds what is read from stdin as a password.
const maxPasswordInput = 4096

// adminCmd manages admin accounts of the admin page:
//
//	relaydesk admin create --email x@y     add an admin
//	relaydesk admin password --email x@y   set a new password (ends their sessions)
//
// The password is read from stdin; when stdin is a terminal or empty, a
// random one is generated and printed once.
func adminCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runAdmin(ctx, os.Getenv, args, stdin, stdout, stderr)
}

// runAdmin is adminCmd with the environment passed in (tests).
func runAdmin(ctx context.Context, getenv config.Getenv, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "password") {
		fmt.Fprintf(stderr, "relaydesk admin: want create or password\n\n%s", usage)
		return errUsage
	}
	sub := args[0]
	var email string
	fs, err := flags("admin "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the admin's email")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || email == "" {
		fmt.Fprintf(stderr, "relaydesk admin %s: want --email you@example.com\n\n%s", sub, usage)
		return errUsage
	}
	if _, err := store.NormalizeEmail(email); err != nil {
		return err
	}
	pw, generated, err := readPassword(stdin)
	if err != nil {
		return err
	}
	if err := password.Check(pw); err != nil {
		return fmt.Errorf("password from stdin: %w", err)
	}

	pool, log, err := openDatabase(ctx, getenv, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrate.Check(ctx, pool); err != nil {
		return err
	}
	// Admin accounts hold no sealed secrets: no key is needed.
	st := store.New(pool, nil)
	who := store.Actor{Name: "cli"}

	switch sub {
	case "create":
		a, err := st.CreateAdmin(ctx, email, pw, who)
		if errors.Is(err, store.ErrAdminExists) {
			return fmt.Errorf("%w (use `relaydesk admin password --email %s` to set a new password)", err, strings.ToLower(email))
		}
		if err != nil {
			return err
		}
		log.Info("admin account created", "admin", a.Email)
		fmt.Fprintf(stdout, "created admin %s\n", a.Email)
	case "password":
		err := st.SetAdminPassword(ctx, email, pw, who)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no admin has the email %s", strings.ToLower(email))
		}
		if err != nil {
			return err
		}
		log.Info("admin password replaced", "admin", strings.ToLower(email))
		fmt.Fprintf(stdout, "new password set for %s; their sessions were ended\n", strings.ToLower(email))
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: keep it in your password manager)\n", pw)
	}
	return nil
}

// readPassword reads a password from stdin (one line, the trailing newline
// removed), or generates one when stdin is a terminal or empty.
func readPassword(stdin io.Reader) (pw string, generated bool, err error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return password.Generate(), true, nil
		}
	}
	b, err := io.ReadAll(io.LimitReader(stdin, maxPasswordInput+1))
	if err != nil {
		return "", false, fmt.Errorf("read password from stdin: %w", err)
	}
	if len(b) > maxPasswordInput {
		return "", false, errors.New("password from stdin: too long")
	}
	pw = strings.TrimRight(string(b), "\r\n")
	if strings.ContainsAny(pw, "\r\n") {
		return "", false, errors.New("password from stdin: give one line")
	}
	if pw == "" {
		return password.Generate(), true, nil
	}
	return pw, false, nil
}
