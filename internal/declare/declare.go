// Package declare applies the declarative configuration file
// (RELAYDESK_CONFIG) to the database: every entry is upserted by name and
// marked as managed by the file; entries the file does not name are left
// alone.
package declare

import (
	"context"
	"fmt"

	"github.com/relaydesk/relaydesk/internal/config"
	"github.com/relaydesk/relaydesk/internal/store"
)

// Result counts what Apply changed.
type Result struct {
	Created, Updated, Unchanged int
}

func (r *Result) count(d store.Declared) {
	switch d {
	case store.DeclaredCreated:
		r.Created++
	case store.DeclaredUpdated:
		r.Updated++
	default:
		r.Unchanged++
	}
}

// Apply upserts every entry of f in one transaction. Applying the same
// file twice changes nothing the second time: unchanged secrets keep their
// sealed bytes, and rows whose values did not change are not written. An
// error names the entry's file and line.
func Apply(ctx context.Context, st *store.Store, f *config.File) (Result, error) {
	var res Result
	err := st.InTx(ctx, func(tx *store.Tx) error {
		accounts := map[string]store.AccountID{}
		for _, a := range f.WhatsApp {
			id, d, err := tx.DeclareAccount(ctx, store.NewAccount{
				Name: a.Name, PhoneNumberID: a.PhoneNumberID, WABAID: a.WABAID, DisplayPhoneNumber: a.DisplayPhoneNumber,
				GraphURL: a.GraphURL, GraphVersion: a.GraphVersion, SendRate: a.SendRate,
				AccessToken: a.AccessToken, AppSecret: a.AppSecret, VerifyToken: a.VerifyToken,
				Coexistence: a.Coexistence, ReadPolicy: a.ReadPolicy,
			})
			if err != nil {
				return fmt.Errorf("%s:%d: whatsapp %q: %w", f.Path, a.Line, a.Name, err)
			}
			accounts[a.Name] = id
			res.count(d)
		}
		connections := map[string]store.ConnectionID{}
		for _, h := range f.Helpdesks {
			id, d, err := tx.DeclareConnection(ctx, store.NewConnection{
				Name: h.Name, Kind: h.Kind, BaseURL: h.BaseURL, Settings: h.Settings, Credentials: h.Credentials,
			}, h.WebhookSecret)
			if err != nil {
				return fmt.Errorf("%s:%d: helpdesk %q: %w", f.Path, h.Line, h.Name, err)
			}
			connections[h.Name] = id
			res.count(d)
		}
		for i, r := range f.Routes {
			d, err := tx.DeclareRoute(ctx, route(i, r, accounts, connections))
			if err != nil {
				return fmt.Errorf("%s:%d: route %s -> %s: %w", f.Path, r.Line, r.WhatsApp, r.Helpdesk, err)
			}
			res.count(d)
		}
		return nil
	})
	return res, err
}

// route converts a route entry; its position is its place in the file.
func route(pos int, r config.RouteEntry, accounts map[string]store.AccountID, connections map[string]store.ConnectionID) store.NewRoute {
	n := store.NewRoute{AccountID: accounts[r.WhatsApp], ConnectionID: connections[r.Helpdesk], Position: pos,
		Match: store.RouteMatch{Kind: "default"}, ReopenWindow: r.Reopen, Tags: r.Tags, StatusDisplay: r.StatusDisplay}
	if r.Match != nil {
		n.Match = store.RouteMatch{Kind: r.Match.Kind, Value: r.Match.Value}
	}
	if t := r.ReengagementTemplate; t != nil {
		n.ReengagementTemplate = &store.Template{Name: t.Name, Language: t.Language}
	}
	return n
}
