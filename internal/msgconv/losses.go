package msgconv

import (
	"strings"
	"time"
)

// AppendLine adds a line for the agent after a message's text, separated
// by a blank line, or is the line alone when there is no text.
func AppendLine(body, line string) string {
	if strings.TrimSpace(body) == "" {
		return line
	}
	return body + "\n\n" + line
}

// FileNotAttached is the line a customer comment gets when the helpdesk
// would not take its file: which file, why, and a link the agent can open
// until it expires (when there is one).
func FileNotAttached(filename, reason, link string, expires time.Time) string {
	s := "[The file " + filename + " could not be attached: " + reason + "."
	if link != "" {
		s += " Open it here until " + expires.UTC().Format("2006-01-02 15:04") + " UTC: " + link
	}
	return s + "]"
}

// FileNotSent is the internal note of an agent reply one of whose files
// WhatsApp would not take; the rest of the reply was sent.
func FileNotSent(filename, reason string) string {
	return "The file " + filename + " of this reply was NOT sent to the customer (the rest of the reply was): " + reason + "."
}

// FileConverted tells the agent a file of their reply reached the customer
// changed (converted, or as a document); note names the change.
func FileConverted(note string) string {
	return "A file of this reply was changed so that WhatsApp takes it: " + note
}

// FirstWords is the start of a message for quoting: its first n words,
// with an ellipsis when there were more.
func FirstWords(s string, n int) string {
	words := strings.Fields(s)
	if len(words) <= n {
		return strings.Join(words, " ")
	}
	return strings.Join(words[:n], " ") + " …"
}

// Reaction describes a customer's reaction to one of the conversation's
// messages, quoting its first words ("" when the message is unknown).
func Reaction(emoji string, removed bool, quoted string) string {
	target := "a message"
	if quoted != "" {
		target = "the message \"" + quoted + "\""
	}
	if removed || emoji == "" {
		return "Removed their reaction to " + target
	}
	return "Reacted " + emoji + " to " + target
}
