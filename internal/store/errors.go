package store

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/relaydesk/relaydesk/internal/password"
)

// ErrManagedByFile is returned when a change targets an entry that
// RELAYDESK_CONFIG manages: the file is its source of truth.
var ErrManagedByFile = refusal("this entry is managed by the configuration file (RELAYDESK_CONFIG) and is read-only here")

// refusalError is a refusal whose text is shown to people as it is (a form,
// an OAuth2 error description): wrap passes it through without context.
type refusalError struct{ msg string }

func (e *refusalError) Error() string { return e.msg }

func refusal(msg string) error { return &refusalError{msg} }

// passThrough reports whether err is shown as it is: a refusal, a conflict
// a validation error or a weak password.
func passThrough(err error) bool {
	var r *refusalError
	var c *ConflictError
	var v *APIValidationError
	return errors.As(err, &r) || errors.As(err, &c) || errors.As(err, &v) || errors.Is(err, password.ErrWeak)
}

// ConflictError is a unique constraint a change ran into, named by the form
// field it concerns.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Message }

// uniqueFields maps unique constraints to the field and message to show.
var uniqueFields = map[string]ConflictError{
	"whatsapp_accounts_name_key":            {"name", "another number already has this name"},
	"whatsapp_accounts_phone_number_id_key": {"phone_number_id", "another number already uses this phone number id"},
	"helpdesk_connections_name_key":         {"name", "another helpdesk connection already has this name"},
	"routes_account_id_connection_id_key":   {"connection_id", "a route already joins this number and this helpdesk"},
}

// conflict turns a unique violation into a *ConflictError.
func conflict(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		if c, ok := uniqueFields[pgErr.ConstraintName]; ok {
			return &c
		}
	}
	return err
}

// isUniqueViolation reports whether err is a unique constraint violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
