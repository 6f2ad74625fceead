package store

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Route sends an account's conversations to a helpdesk connection.
type Route struct {
	ID                   RouteID
	AccountID            AccountID
	ConnectionID         ConnectionID
	Position             int
	Match                RouteMatch
	ReopenWindow         time.Duration
	Tags                 []string
	ReengagementTemplate *Template
	ManagedByFile        bool
	// StatusDisplay is how agents see their messages' WhatsApp status:
	// StatusDisplayNative (the default), StatusDisplayTag or
	// StatusDisplayOff.
	StatusDisplay string
}

// Route status displays (routes.status_display).
const (
	StatusDisplayNative = "native"
	StatusDisplayTag    = "tag"
	StatusDisplayOff    = "off"
)

// ValidStatusDisplay reports whether s is a status display ("" is the
// default, native).
func ValidStatusDisplay(s string) bool {
	switch s {
	case "", StatusDisplayNative, StatusDisplayTag, StatusDisplayOff:
		return true
	}
	return false
}

func statusDisplayArg(s string) string {
	if s == "" {
		return StatusDisplayNative
	}
	return s
}

// RouteMatch is a routing rule (kind: default, country or keyword).
type RouteMatch struct {
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
}

// Template names an approved WhatsApp message template.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

// RouteView is a route with the names of the number and helpdesk it joins.
type RouteView struct {
	Route
	AccountName    string
	ConnectionName string
	ConnectionKind string
}

// NewRoute is what creating, updating or declaring a route takes.
type NewRoute struct {
	AccountID            AccountID
	ConnectionID         ConnectionID
	Position             int
	Match                RouteMatch
	ReopenWindow         time.Duration
	Tags                 []string
	ReengagementTemplate *Template
	StatusDisplay        string // "" is StatusDisplayNative
}

const routeColumns = `r.id, r.account_id, r.connection_id, r.position, r.match, r.reopen_window, r.tags,
	r.reengagement_template, r.managed_by_file, r.status_display`

func (r *Route) fields() []any {
	return []any{&r.ID, &r.AccountID, &r.ConnectionID, &r.Position, &r.Match, &r.ReopenWindow, &r.Tags,
		&r.ReengagementTemplate, &r.ManagedByFile, &r.StatusDisplay}
}

func scanRoute(row scanner) (Route, error) {
	var r Route
	return r, row.Scan(r.fields()...)
}

const routeViewQuery = `SELECT ` + routeColumns + `, a.name, c.name, c.kind
	FROM routes r JOIN whatsapp_accounts a ON a.id = r.account_id JOIN helpdesk_connections c ON c.id = r.connection_id`

func scanRouteView(row scanner) (RouteView, error) {
	var r RouteView
	return r, row.Scan(append(r.fields(), &r.AccountName, &r.ConnectionName, &r.ConnectionKind)...)
}

// RoutesForAccount lists an account's routes in evaluation order.
func (q *Queries) RoutesForAccount(ctx context.Context, accountID AccountID) ([]Route, error) {
	out, err := list(ctx, q.db, scanRoute, `SELECT `+routeColumns+` FROM routes r WHERE r.account_id = $1
		ORDER BY r.position, r.id`, accountID)
	return out, wrap(err, "routes of account %d", accountID)
}

// RouteViews lists every route, by number and then evaluation order.
func (q *Queries) RouteViews(ctx context.Context) ([]RouteView, error) {
	out, err := list(ctx, q.db, scanRouteView, routeViewQuery+` ORDER BY a.name, r.position, r.id`)
	return out, wrap(err, "list routes")
}

// RouteViewByID loads one route.
func (q *Queries) RouteViewByID(ctx context.Context, id RouteID) (RouteView, error) {
	r, err := scanRouteView(q.db.QueryRow(ctx, routeViewQuery+` WHERE r.id = $1`, id))
	return r, wrap(err, "route %d", id)
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
	d["status_display"] = statusDisplayArg(n.StatusDisplay)
	return d
}

func tagsOrEmpty(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return slices.Clone(tags)
}

// CreateRoute adds a route made in the admin page.
func (q *Queries) CreateRoute(ctx context.Context, n NewRoute, who Actor) (RouteID, error) {
	var id RouteID
	err := q.inTx(ctx, func(tx *Queries) error {
		err := tx.db.QueryRow(ctx, `INSERT INTO routes (account_id, connection_id, position, match, reopen_window, tags, reengagement_template,
			status_display)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			n.AccountID, n.ConnectionID, n.Position, n.Match, n.ReopenWindow, tagsOrEmpty(n.Tags), n.ReengagementTemplate,
			statusDisplayArg(n.StatusDisplay)).Scan(&id)
		if err != nil {
			return conflict(err)
		}
		return tx.recordAudit(ctx, who, audit{Action: "route.create", TargetType: "route", TargetID: int64(id),
			TargetName: tx.routeName(ctx, id), Detail: routeDetail(n)})
	})
	return id, wrap(err, "create route")
}

// routeName names a route in the audit log as "number -> helpdesk".
func (q *Queries) routeName(ctx context.Context, id RouteID) string {
	var name string
	_ = q.db.QueryRow(ctx, `SELECT a.name || ' -> ' || c.name FROM routes r JOIN whatsapp_accounts a ON a.id = r.account_id
		JOIN helpdesk_connections c ON c.id = r.connection_id WHERE r.id = $1`, id).Scan(&name)
	return name
}

// lockRoute locks a route made in the page, refusing routes from the file.
func (q *Queries) lockRoute(ctx context.Context, id RouteID) error {
	var managed bool
	if err := q.db.QueryRow(ctx, `SELECT managed_by_file FROM routes WHERE id = $1 FOR UPDATE`, id).Scan(&managed); err != nil {
		return err
	}
	if managed {
		return ErrManagedByFile
	}
	return nil
}

// UpdateRoute changes a route made in the admin page.
func (q *Queries) UpdateRoute(ctx context.Context, id RouteID, n NewRoute, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		if err := tx.lockRoute(ctx, id); err != nil {
			return err
		}
		_, err := tx.db.Exec(ctx, `UPDATE routes SET account_id = $2, connection_id = $3, position = $4, match = $5,
			reopen_window = $6, tags = $7, reengagement_template = $8, status_display = $9, updated_at = now()
			WHERE id = $1 AND NOT managed_by_file`,
			id, n.AccountID, n.ConnectionID, n.Position, n.Match, n.ReopenWindow, tagsOrEmpty(n.Tags), n.ReengagementTemplate,
			statusDisplayArg(n.StatusDisplay))
		if err != nil {
			return conflict(err)
		}
		return tx.recordAudit(ctx, who, audit{Action: "route.update", TargetType: "route", TargetID: int64(id),
			TargetName: tx.routeName(ctx, id), Detail: routeDetail(n)})
	})
	return wrap(err, "update route %d", id)
}

// DeleteRoute removes a route made in the admin page.
func (q *Queries) DeleteRoute(ctx context.Context, id RouteID, who Actor) error {
	err := q.inTx(ctx, func(tx *Queries) error {
		if err := tx.lockRoute(ctx, id); err != nil {
			return err
		}
		name := tx.routeName(ctx, id)
		n, err := tx.exec(ctx, `DELETE FROM routes WHERE id = $1 AND NOT managed_by_file`, id)
		if err != nil {
			return err
		}
		if n != 1 {
			return ErrNotFound
		}
		return tx.recordAudit(ctx, who, audit{Action: "route.delete", TargetType: "route", TargetID: int64(id), TargetName: name})
	})
	return wrap(err, "delete route %d", id)
}

// DeclareRoute upserts the route joining a number and a helpdesk as managed
// by the file; an unchanged route is not written.
func (q *Queries) DeclareRoute(ctx context.Context, n NewRoute) (Declared, error) {
	var tag string
	err := q.db.QueryRow(ctx, `
		INSERT INTO routes AS r (account_id, connection_id, position, match, reopen_window, tags, reengagement_template, managed_by_file,
			status_display)
		VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8)
		ON CONFLICT (account_id, connection_id) DO UPDATE SET position = excluded.position, match = excluded.match,
			reopen_window = excluded.reopen_window, tags = excluded.tags,
			reengagement_template = excluded.reengagement_template, managed_by_file = true,
			status_display = excluded.status_display, updated_at = now()
		WHERE (r.position, r.match, r.reopen_window, r.tags, r.reengagement_template, r.managed_by_file, r.status_display)
			IS DISTINCT FROM (excluded.position, excluded.match, excluded.reopen_window, excluded.tags,
			excluded.reengagement_template, true, excluded.status_display)
		RETURNING `+upsertTag,
		n.AccountID, n.ConnectionID, n.Position, n.Match, n.ReopenWindow, tagsOrEmpty(n.Tags), n.ReengagementTemplate,
		statusDisplayArg(n.StatusDisplay)).Scan(&tag)
	d, err := declaredTag(err, tag)
	if err != nil {
		return "", fmt.Errorf("declare route %d -> %d: %w", n.AccountID, n.ConnectionID, err)
	}
	return d, nil
}
