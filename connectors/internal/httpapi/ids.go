package httpapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
)

// ParseID parses a helpdesk's positive numeric id given as a string; kind
// names it in the error ("ticket"), which starts with helpdesk.
func ParseID(helpdesk, kind, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, connectors.PermanentError(fmt.Sprintf("%s: invalid %s id %q", helpdesk, kind, s), nil)
	}
	return id, nil
}

// CreatedID formats the id the helpdesk gave something it just created
// (what: "note"); a missing id (0) is a retryable error, since the answer
// was cut or garbled.
func CreatedID(helpdesk, what string, id int64) (string, error) {
	if id == 0 {
		return "", connectors.RetryError(helpdesk+": created "+what+" has no id", nil)
	}
	return strconv.FormatInt(id, 10), nil
}

// NoteTarget checks the arguments of an AddNote call: it parses the ticket
// id (kind names it, "ticket") and refuses a blank note.
func NoteTarget(helpdesk, kind, ticketID string, n connectors.Note) (int64, error) {
	id, err := ParseID(helpdesk, kind, ticketID)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(n.Body) == "" {
		return 0, connectors.PermanentError(helpdesk+": empty note", nil)
	}
	return id, nil
}
