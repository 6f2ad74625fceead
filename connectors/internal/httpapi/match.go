package httpapi

import (
	"slices"
	"strings"

	"github.com/relaydesk/relaydesk/connectors"
)

// NormText folds a message text's line endings and runs of white space, for
// comparing what was posted with what the helpdesk gives back.
func NormText(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r\n", "\n")), " ")
}

// SameFiles reports whether a helpdesk comment's attachments (have, named
// by haveName) are, in any order, the files of want (named by wantName).
func SameFiles[T any](have []T, haveName func(T) string, want []connectors.Attachment, wantName func(connectors.Attachment) string) bool {
	if len(have) != len(want) {
		return false
	}
	names := make([]string, len(have))
	for i, a := range have {
		names[i] = haveName(a)
	}
	for _, a := range want {
		i := slices.Index(names, wantName(a))
		if i < 0 {
			return false
		}
		names = slices.Delete(names, i, i+1)
	}
	return true
}
