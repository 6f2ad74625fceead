package store

import (
	"context"
	"fmt"
)

// sealedColumn is a column holding values sealed with the keyring; its
// purpose (associated data) is "table.column".
type sealedColumn struct{ table, column string }

// sealedColumns lists every column that holds sealed values and outlives a
// request. (oauth_states.verifier is sealed too but lives ten minutes: it is
// left to expire.)
var sealedColumns = []sealedColumn{
	{"whatsapp_accounts", "access_token"},
	{"whatsapp_accounts", "app_secret"},
	{"whatsapp_accounts", "verify_token"},
	{"helpdesk_connections", "credentials"},
	{"helpdesk_connections", "oauth_token"},
	{"helpdesk_connections", "webhook_secret"},
	{"api_subscriptions", "secret"},
}

// Reseal re-encrypts under the current key every stored secret sealed under
// another one (the old key of a rotation), one table at a time, each in a
// transaction. It returns how many values it re-sealed. After it, the old
// key can be dropped from RELAYDESK_SECRET_KEY_OLD.
func (q *Queries) Reseal(ctx context.Context) (int, error) {
	total := 0
	for _, c := range sealedColumns {
		purpose := c.table + "." + c.column
		err := q.inTx(ctx, func(tx *Queries) error {
			rows, err := tx.db.Query(ctx, fmt.Sprintf(`SELECT id, %s FROM %s WHERE %s IS NOT NULL FOR UPDATE`,
				c.column, c.table, c.column))
			if err != nil {
				return err
			}
			type row struct {
				id     int64
				sealed []byte
			}
			var stale []row
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.id, &r.sealed); err != nil {
					rows.Close()
					return err
				}
				if len(r.sealed) > 0 && q.keys.NeedsReseal(r.sealed) {
					stale = append(stale, r)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, r := range stale {
				plain, err := q.keys.Open(r.sealed, purpose)
				if err != nil {
					return fmt.Errorf("%s of row %d: %w", purpose, r.id, err)
				}
				if _, err := tx.db.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s = $2 WHERE id = $1`, c.table, c.column),
					r.id, q.keys.Seal(plain, purpose)); err != nil {
					return err
				}
			}
			total += len(stale)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("reseal %s: %w", purpose, err)
		}
	}
	return total, nil
}

// SealedColumnNames returns "table.column" for every column Reseal covers.
func SealedColumnNames() []string {
	out := make([]string, len(sealedColumns))
	for i, c := range sealedColumns {
		out[i] = c.table + "." + c.column
	}
	return out
}
