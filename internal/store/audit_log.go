package store

import (
	"context"
	"encoding/json"
	"time"
)

// Actor is who makes a change: an admin through the page, or the CLI.
type Actor struct {
	AdminID *AdminID
	// Name is the admin's email, "cli" or "setup".
	Name string
	// IP is the client address, when the change came over HTTP.
	IP string
}

// AuditEntry is one recorded change.
type AuditEntry struct {
	ID         AuditID
	At         time.Time
	Actor      string
	RemoteIP   string
	Action     string
	TargetType string
	TargetID   *int64 // the row id of a table that TargetType names
	TargetName string
	Detail     map[string]any
}

// audit is what a change records; Detail must never hold a secret value
// (name the secret fields that changed instead).
type audit struct {
	Action     string
	TargetType string
	TargetID   int64
	TargetName string
	Detail     map[string]any
}

// recordAudit writes one entry on q: call it on the transaction of the
// change, so a change and its record commit together.
func (q *Queries) recordAudit(ctx context.Context, who Actor, a audit) error {
	if a.Detail == nil {
		a.Detail = map[string]any{}
	}
	detail, err := json.Marshal(a.Detail)
	if err != nil {
		return wrap(err, "record audit %s: detail", a.Action)
	}
	var target *int64
	if a.TargetID != 0 {
		target = &a.TargetID
	}
	_, err = q.db.Exec(ctx, `INSERT INTO audit_log (admin_id, actor, remote_ip, action, target_type, target_id, target_name, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, who.AdminID, who.Name, who.IP, a.Action, a.TargetType, target, a.TargetName, json.RawMessage(detail))
	return wrap(err, "record audit %s", a.Action)
}

// RecordAudit writes one entry on its own, for actions that change nothing
// else in the database (a test event, a webhook installed in a helpdesk).
// targetID is the row id of the table that targetType names.
func (q *Queries) RecordAudit(ctx context.Context, who Actor, action, targetType string, targetID int64, targetName string, detail map[string]any) error {
	return q.recordAudit(ctx, who, audit{Action: action, TargetType: targetType, TargetID: targetID, TargetName: targetName, Detail: detail})
}

// AuditLog returns the newest entries first.
func (q *Queries) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	out, err := list(ctx, q.db, func(r scanner) (AuditEntry, error) {
		var e AuditEntry
		return e, r.Scan(&e.ID, &e.At, &e.Actor, &e.RemoteIP, &e.Action, &e.TargetType, &e.TargetID, &e.TargetName, &e.Detail)
	}, `SELECT id, at, actor, remote_ip, action, target_type, target_id, target_name, detail
		FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
	return out, wrap(err, "read audit log")
}
