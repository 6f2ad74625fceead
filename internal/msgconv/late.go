package msgconv

import "time"

// MarkLate starts a customer message's text with a line saying that it
// arrived late, after messages the customer sent later were already posted,
// and when the customer sent it, in UTC. The date is shown too when the
// message was sent on another (UTC) day than it arrived, so the line depends
// only on the message and reads the same on every attempt.
func MarkLate(body string, sent, arrived time.Time) string {
	sent, arrived = sent.UTC(), arrived.UTC()
	layout := "15:04:05"
	if sent.Format(time.DateOnly) != arrived.Format(time.DateOnly) {
		layout = time.DateTime
	}
	line := "[Sent " + sent.Format(layout) + " UTC, arrived late]"
	if body == "" {
		return line
	}
	return line + "\n" + body
}
