package main

import (
	"context"
	"os"

	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/config"
)

// serveRelaydesk is `relaydesk serve` inside this binary: the same
// configuration and app.Serve. It runs when relaydesk-load re-executes
// itself as the child (-relaydesk-bin self), which the short soak test does
// to avoid a build.
func serveRelaydesk(ctx context.Context) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	file, err := app.LoadFile(cfg, os.Getenv)
	if err != nil {
		return err
	}
	log := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	return app.Serve(ctx, cfg, file, log, nil)
}

// selfChild returns the binary and arguments that run serveRelaydesk.
func selfChild() (string, []string, error) {
	exe, err := os.Executable()
	return exe, []string{"serve-relaydesk"}, err
}
