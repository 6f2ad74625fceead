package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/migrate"
	"github.com/relaydesk/relaydesk/internal/store"
)

// secretsCmd runs `relaydesk secrets reseal`: after setting a new
// RELAYDESK_SECRET_KEY with the previous one in RELAYDESK_SECRET_KEY_OLD, it
// re-encrypts every stored secret under the new key, so the old key can be
// dropped.
func secretsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runSecrets(ctx, os.Getenv, args, stdout, stderr)
}

// runSecrets is secretsCmd with the environment passed in (tests).
func runSecrets(ctx context.Context, getenv config.Getenv, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "reseal" {
		fmt.Fprintf(stderr, "relaydesk secrets: want reseal\n\n%s", usage)
		return errUsage
	}
	if err := noFlags("secrets reseal", args[1:], stderr); err != nil {
		return err
	}
	cfg, st, closeStore, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeStore()
	n, err := st.Reseal(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-sealed %d secrets under the current key", n)
	if cfg.SecretKeyOld != nil {
		fmt.Fprint(stdout, "; RELAYDESK_SECRET_KEY_OLD can now be removed")
	}
	fmt.Fprintln(stdout)
	return nil
}

// openStore opens the database of a one-off command: the configuration and
// key ring from the environment, a small pool, and a check that the schema
// is migrated (commands never migrate). The caller calls closeStore.
func openStore(ctx context.Context, getenv config.Getenv) (cfg *config.Config, st *store.Store, closeStore func(), err error) {
	if cfg, err = config.Load(getenv); err != nil {
		return nil, nil, nil, err
	}
	keys, err := cfg.Keyring()
	if err != nil {
		return nil, nil, nil, err
	}
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := migrate.Check(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return cfg, store.New(pool, keys), pool.Close, nil
}
