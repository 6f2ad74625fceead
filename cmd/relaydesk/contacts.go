package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/relaydesk/relaydesk/internal/app"
	"github.com/relaydesk/relaydesk/internal/bridge"
	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
)

// contactsCmd runs `relaydesk contacts erase --wa-id N [--helpdesk]`: a
// customer's erasure request, from the command line.
func contactsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runContacts(ctx, os.Getenv, args, stdout, stderr)
}

// runContacts is contactsCmd with the environment passed in (tests).
func runContacts(ctx context.Context, getenv config.Getenv, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "erase" {
		fmt.Fprintf(stderr, "relaydesk contacts: want erase\n\n%s", usage)
		return errUsage
	}
	var waID string
	var inHelpdesk bool
	fs, err := flags("contacts erase", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&waID, "wa-id", "", "the customer's WhatsApp id: their number in international format, digits only, or their business-scoped user id (US.1349...)")
		fs.BoolVar(&inHelpdesk, "helpdesk", false, "also delete the customer's requester in each helpdesk whose API can")
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 || waID == "" {
		fmt.Fprintf(stderr, "relaydesk contacts erase: want --wa-id 4915123456789\n\n%s", usage)
		return errUsage
	}
	cfg, st, closeStore, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeStore()
	ids, err := st.ContactsByID(ctx, strings.TrimPrefix(strings.TrimSpace(waID), "+"))
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("no contact has the WhatsApp id %s: nothing erased", waID)
	}
	br := bridge.New(bridge.Opts{Store: st, Logger: app.NewLogger(cfg.LogLevel, cfg.LogFormat), Connectors: app.ConnectorFactory(st, cfg.BaseURL.String()),
		CallTimeout: cfg.CallTimeout})
	// A phone number names one contact per WhatsApp Business Account.
	for _, id := range ids[:len(ids)-1] {
		e, err := br.EraseContact(ctx, store.Actor{Name: "cli"}, id, inHelpdesk)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		fmt.Fprintln(stdout, erasureSummary(e))
		for _, line := range e.Helpdesk {
			fmt.Fprintln(stdout, line)
		}
	}
	e, err := br.EraseContact(ctx, store.Actor{Name: "cli"}, ids[len(ids)-1], inHelpdesk)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, erasureSummary(e))
	for _, line := range e.Helpdesk {
		fmt.Fprintln(stdout, line)
	}
	if !inHelpdesk && len(e.HelpdeskTickets) > 0 {
		fmt.Fprintf(stdout, "the helpdesk still holds %d tickets of this customer: run again with --helpdesk where its API can delete them, or delete them there\n",
			len(e.HelpdeskTickets))
	}
	return nil
}

// erasureSummary is one sentence of counts, the same on the admin page.
func erasureSummary(e bridge.Erasure) string {
	return fmt.Sprintf("erased contact %d: %d conversations, %d messages, %d raw webhook deliveries, %d API events, %d API idempotency records, %d queued jobs",
		e.ContactID, e.Conversations, e.Messages, e.WebhookEvents, e.APIEvents, e.APIIdempotency, e.Jobs)
}
