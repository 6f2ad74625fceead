package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// RouteView is a route with the names of the number and helpdesk it joins.
type RouteView struct {
	Route
	AccountName    string
	ConnectionName string
	ConnectionKind string
}

// NewRoute is what creating or updating a route takes.
type NewRoute struct {
	AccountID, ConnectionID int64
	Position                int
	Match                   RouteMatch
	ReopenWindow            time.Duration
	Tags                    []string
	ReengagementTemplate    *Template
}

const routeViewQuery = `SELECT r.id, r.account_id, r.connection_id, r.position, r.match, r.reopen_window, r.tags,
	r.reengagement_template, r.managed_by_file, a.name, c.name, c.kind
	FROM routes r JOIN whatsapp_accounts a ON a.id = r.account_id JOIN helpdesk_connections c ON c.id = r.connection_id`

func scanRouteView(row interface{ Scan(...any) error }) (RouteView, error) {
	var r RouteView
	err := row.Scan(&r.ID, &r.AccountID, &r.ConnectionID, &r.Position, &r.Match, &r.ReopenWindow, &r.Tags,
		&r.ReengagementTemplate, &r.ManagedByFile, &r.AccountName, &r.ConnectionName, &r.ConnectionKind)
	return r, err
}

// RouteViews lists every route, by number and then evaluation order.
func (s *Store) RouteViews(ctx context.Context) ([]RouteView, error) {
	rows, err := s.pool.Query(ctx, routeViewQuery+` ORDER BY a.name, r.position, r.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (RouteView, error) { return scanRouteView(row) })
}

// RouteViewByID loads one route.
func (s *Store) RouteViewByID(ctx context.Context, id int64) (RouteView, error) {
	r, err := scanRouteView(s.pool.QueryRow(ctx, routeViewQuery+` WHERE r.id = $1`, id))
	return r, notFound(err)
}

func routeDetail(n NewRoute) map[string]any {
	window := n.ReopenWindow.String()
	if n.ReopenWindow%(24*time.Hour) == 0 {
		window = fmt.Sprintf("%dd", n.ReopenWindow/(24*time.Hour))
	}
	d := map[string]any{"match": n.Match.Kind, "reopen_window": window, "tags": n.Tags, "position": n.Position}
	if n.ReengagementTemplate != nil {
		d["template"] = n.ReengagementTemplate.Name + " (" + n.ReengagementTemplate.Language + ")"
	}
	return d
}

func tagsOrEmpty(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return slices.Clone(tags)
}

// CreateRoute adds a route made in the admin page.
func (s *Store) CreateRoute(ctx context.Context, n NewRoute, who Actor) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO routes (account_id, connection_id, position, match, reopen_window, tags, reengagement_template)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			n.AccountID, n.ConnectionID, n.Position, n.Match, n.ReopenWindow, tagsOrEmpty(n.Tags), n.ReengagementTemplate).Scan(&id)
		if err != nil {
			return conflict(err)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "route.create", TargetType: "route", TargetID: id,
			TargetName: s.routeName(ctx, tx, id), Detail: routeDetail(n)})
	})
	return id, err
}

// routeName names a route in the audit log as "number -> helpdesk".
func (s *Store) routeName(ctx context.Context, tx pgx.Tx, id int64) string {
	var name string
	_ = tx.QueryRow(ctx, `SELECT a.name || ' -> ' || c.name FROM routes r JOIN whatsapp_accounts a ON a.id = r.account_id
		JOIN helpdesk_connections c ON c.id = r.connection_id WHERE r.id = $1`, id).Scan(&name)
	return name
}

// lockRoute locks a route made in the page, refusing routes from the file.
func lockRoute(ctx context.Context, tx pgx.Tx, id int64) error {
	var managed bool
	if err := tx.QueryRow(ctx, `SELECT managed_by_file FROM routes WHERE id = $1 FOR UPDATE`, id).Scan(&managed); err != nil {
		return notFound(err)
	}
	if managed {
		return ErrManagedByFile
	}
	return nil
}

// UpdateRoute changes a route made in the admin page.
func (s *Store) UpdateRoute(ctx context.Context, id int64, n NewRoute, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockRoute(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE routes SET account_id = $2, connection_id = $3, position = $4, match = $5,
			reopen_window = $6, tags = $7, reengagement_template = $8, updated_at = now() WHERE id = $1 AND NOT managed_by_file`,
			id, n.AccountID, n.ConnectionID, n.Position, n.Match, n.ReopenWindow, tagsOrEmpty(n.Tags), n.ReengagementTemplate)
		if err != nil {
			return conflict(err)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "route.update", TargetType: "route", TargetID: id,
			TargetName: s.routeName(ctx, tx, id), Detail: routeDetail(n)})
	})
}

// DeleteRoute removes a route made in the admin page.
func (s *Store) DeleteRoute(ctx context.Context, id int64, who Actor) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockRoute(ctx, tx, id); err != nil {
			return err
		}
		name := s.routeName(ctx, tx, id)
		tag, err := tx.Exec(ctx, `DELETE FROM routes WHERE id = $1 AND NOT managed_by_file`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("delete route %d: %w", id, ErrNotFound)
		}
		return s.recordAudit(ctx, tx, who, audit{Action: "route.delete", TargetType: "route", TargetID: id, TargetName: name})
	})
}
