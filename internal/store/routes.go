package store

import (
	"context"
	"time"
)

// Route sends an account's conversations to a helpdesk connection.
type Route struct {
	ID                   int64
	AccountID            int64
	ConnectionID         int64
	Position             int
	Match                RouteMatch
	ReopenWindow         time.Duration
	Tags                 []string
	ReengagementTemplate *Template
	ManagedByFile        bool
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

const routeColumns = `id, account_id, connection_id, position, match, reopen_window, tags, reengagement_template, managed_by_file`

// RoutesForAccount lists an account's routes in evaluation order.
func (s *Store) RoutesForAccount(ctx context.Context, db DBTX, accountID int64) ([]Route, error) {
	rows, err := db.Query(ctx, `SELECT `+routeColumns+` FROM routes WHERE account_id = $1 ORDER BY position, id`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Route
	for rows.Next() {
		var r Route
		if err := rows.Scan(&r.ID, &r.AccountID, &r.ConnectionID, &r.Position, &r.Match, &r.ReopenWindow,
			&r.Tags, &r.ReengagementTemplate, &r.ManagedByFile); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
